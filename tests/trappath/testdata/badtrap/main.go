// Command badtrap is what the trap-path walker must catch (see
// selfcheck_test.go): each function does one thing a trap handler must
// not do, or one it may.
package main

var (
	global  []int
	sink    *int
	sinkAny any
	table   = map[int]int{}
	counter int
	array   [8]int
	hook    func()
	name    string
)

//go:noinline
func appends() { global = append(global, counter) }

//go:noinline
func storesPointer(p *int) { sink = p }

//go:noinline
func boxes(v uint64) { sinkAny = v }

//go:noinline
func concatenates(a, b string) { name = a + b }

//go:noinline
func assignsMap(k int) { table[k] = counter }

//go:noinline
func indexes(i int) int { return array[i] }

//go:noinline
func clean() { counter++ }

//go:noinline
func callsHook() { hook() }

//go:noinline
func outer() { middle() }

//go:noinline
func middle() { counter += 2; appends() }

func main() {
	hook = clean
	appends()
	storesPointer(&counter)
	boxes(uint64(counter))
	concatenates(name, "x")
	assignsMap(counter)
	counter = indexes(counter)
	clean()
	callsHook()
	outer()
}
