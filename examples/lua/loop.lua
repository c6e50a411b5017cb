-- A CPU-bound loop: the interpreter's time is in luaV_execute.
local n = tonumber(arg and arg[1]) or 3000000
local s = 0
for i = 1, n do
  s = s + i % 7
end
print(s)
