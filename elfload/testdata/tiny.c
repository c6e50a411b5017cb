/* tiny: a header-free translation unit, so that gcc -m32 -c works even
 * without 32-bit libc headers (used for the 32-bit ELF test). */
int counter = 1;
int next(int x) { return x + counter++; }
