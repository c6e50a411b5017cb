-- make bench's lua job: the interpreter's own work, no system calls
-- after start-up: recursive calls (fib), table inserts, reads and sorting,
-- string building and pattern matching, floating-point arithmetic. Prints
-- one checksum line, the same on every machine.
local scale = tonumber(arg and arg[1]) or 1

local function fib(n)
  if n < 2 then return n end
  return fib(n - 1) + fib(n - 2)
end

local sum = 0
for _ = 1, scale do
  sum = sum + fib(24)

  local t = {}
  for i = 1, 60000 do t[i] = (i * 7919) % 10007 end
  table.sort(t)
  for i = 1, #t, 97 do sum = sum + t[i] end

  local parts = {}
  for i = 1, 8000 do parts[#parts + 1] = string.format("%d:%x", i, i * 31) end
  local s = table.concat(parts, ",")
  for a, b in s:gmatch("(%d+):(%x+)") do
    if #b > 4 then sum = sum + #a end
  end

  local x = 0.0
  for i = 1, 200000 do x = x + math.sin(i) * math.sqrt(i) end
  sum = sum + math.floor(x)
end
print(sum)
