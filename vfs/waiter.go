package vfs

import (
	"sync"

	"golang.org/x/sys/unix"
)

// EventMask is a set of poll(2) events (POLLIN, POLLOUT, POLLERR ...).
type EventMask uint32

// Poll events, as poll(2) and epoll(7) number them.
const (
	EventIn  EventMask = unix.POLLIN
	EventPri EventMask = unix.POLLPRI
	EventOut EventMask = unix.POLLOUT
	EventErr EventMask = unix.POLLERR
	EventHup EventMask = unix.POLLHUP
	// EventAlways are the events a waiter gets whether it asked or not.
	EventAlways = EventErr | EventHup
)

// WaitQueue is the readiness channel of one object (a pipe, a socket, a
// terminal): whoever changes the object's readiness calls Notify, and
// only the waiters of that object run. The zero value is ready to use.
type WaitQueue struct {
	mu      sync.Mutex
	waiters map[*Waiter]struct{}
}

// Waiter is one subscription to a WaitQueue: a goroutine blocked on its
// channel, or an epoll instance's callback.
type Waiter struct {
	mask EventMask
	fn   func(EventMask)
	c    chan struct{}
}

// NewWaiter returns a waiter for the events in mask whose C receives a
// value (at most one pending) whenever one of them may have happened.
func NewWaiter(mask EventMask) *Waiter {
	return &Waiter{mask: mask | EventAlways, c: make(chan struct{}, 1)}
}

// NewCallbackWaiter returns a waiter that calls fn with the events that
// happened. fn runs in the notifier's goroutine with the queue locked: it
// must not block, touch the queue, or take a lock that anyone holds while
// subscribing to it (epoll: the ready list's lock, not the interest
// list's). In return, fn never runs after Unsubscribe has returned.
func NewCallbackWaiter(mask EventMask, fn func(EventMask)) *Waiter {
	return &Waiter{mask: mask | EventAlways, fn: fn}
}

// C returns the channel of a waiter from NewWaiter.
func (w *Waiter) C() <-chan struct{} { return w.c }

// Subscribe adds w to q. Check the object's readiness after subscribing,
// not before, or a Notify in between is lost.
func (q *WaitQueue) Subscribe(w *Waiter) {
	q.mu.Lock()
	if q.waiters == nil {
		q.waiters = make(map[*Waiter]struct{})
	}
	q.waiters[w] = struct{}{}
	q.mu.Unlock()
}

// Unsubscribe removes w from q.
func (q *WaitQueue) Unsubscribe(w *Waiter) {
	q.mu.Lock()
	delete(q.waiters, w)
	q.mu.Unlock()
}

// Notify tells the waiters interested in any of the events in mask.
func (q *WaitQueue) Notify(mask EventMask) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for w := range q.waiters {
		ev := w.mask & mask
		if ev == 0 {
			continue
		}
		if w.fn != nil {
			w.fn(ev)
			continue
		}
		select {
		case w.c <- struct{}{}:
		default:
		}
	}
}

// Len returns the number of subscribed waiters.
func (q *WaitQueue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.waiters)
}
