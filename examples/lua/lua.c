/* A minimal stand-alone Lua interpreter, "lua SCRIPT [ARG...]", on
 * Debian's liblua5.4.a (liblua5.4-dev), linked statically into a
 * dynamically linked program. Debian's /usr/bin/lua5.4 is the same
 * interpreter but stripped, so a profile of it has no function names
 * unless lua5.4's debug symbols are installed; this one keeps its symbol
 * table, so the profiler test can look for luaV_execute. */
#include <stdio.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

int main(int argc, char **argv) {
	if (argc < 2) {
		fprintf(stderr, "usage: lua SCRIPT [ARG...]\n");
		return 1;
	}
	lua_State *L = luaL_newstate();
	if (L == NULL) {
		fprintf(stderr, "lua: out of memory\n");
		return 1;
	}
	luaL_openlibs(L);
	lua_createtable(L, argc, 0); /* arg, as lua.c builds it */
	for (int i = 0; i < argc; i++) {
		lua_pushstring(L, argv[i]);
		lua_rawseti(L, -2, i - 1);
	}
	lua_setglobal(L, "arg");
	if (luaL_dofile(L, argv[1]) != LUA_OK) {
		fprintf(stderr, "lua: %s\n", lua_tostring(L, -1));
		lua_close(L);
		return 1;
	}
	lua_close(L);
	return 0;
}
