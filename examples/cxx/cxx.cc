// cxx: C++ with iostream output and an exception thrown and caught.
// Tests static-initialisers, libstdc++'s streams and the unwinder, which
// finds PT_GNU_EH_FRAME through dl_iterate_phdr, i.e. needs a correct
// AT_PHDR/AT_PHNUM in the auxiliary vector.
#include <iostream>
#include <stdexcept>

static void thrower()
{
	throw std::runtime_error("boom");
}

int main()
{
	std::cout << "hello from C++" << std::endl;
	try {
		thrower();
		std::cout << "not caught" << std::endl;
	} catch (const std::exception &e) {
		std::cout << "caught: " << e.what() << std::endl;
	}
	return 0;
}
