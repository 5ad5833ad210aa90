/*
 * futex(2) as the core sees it through host.wait / host.wake (wasm/base/host.ts),
 * shared by every model. Each model has ONE futex word, so one wait queue.
 *
 *   futex_wait(word, expected): in ONE atomic step, if word != expected return
 *     WAIT_NOT_EQUAL, else join the queue. Then block until a futex_wake takes
 *     this process off the queue (WAIT_WOKEN). With SPURIOUS defined it may
 *     also leave the queue by itself at any moment: a spurious wake-up
 *     (WAIT_WOKEN) or the end of its time slice (WAIT_TIMED_OUT). With
 *     SLICES defined it leaves with WAIT_TIMED_OUT only once nothing else in
 *     the system can move (Promela's `timeout`): time passing is the last
 *     resort, which is how a liveness poll rescues a waiter from a dead holder.
 *   futex_wake(n): in ONE atomic step, take min(n, queued) processes off the
 *     queue, any of them (the kernel's order is not part of the contract).
 *
 * Ghost state for the no-lost-wake-up invariant: inflight[p] is set when p
 * leaves the queue (woken, spurious, timed out) and cleared by the model once
 * p has re-checked the shared state; a woken process that has not yet looked
 * may still be the one that carries the wake-up on.
 *
 * The including model defines N (3), declares `bool queued[N+1]`,
 * `bool inflight[N+1]` (indexed by pid 1..N) and, in each proctype, `byte me`
 * (its pid), `byte res` and `byte k`.
 */

#define WAIT_WOKEN     0
#define WAIT_NOT_EQUAL 1
#define WAIT_TIMED_OUT 2

#define ANY_QUEUED   (queued[1] || queued[2] || queued[3])
#define ANY_INFLIGHT (inflight[1] || inflight[2] || inflight[3])

inline futex_wait(word, expected) {
  d_step {
    if
    :: word == expected -> queued[me] = true; res = WAIT_WOKEN
    :: else -> res = WAIT_NOT_EQUAL
    fi
  };
  if
  :: res == WAIT_WOKEN ->
    if
    :: !queued[me]                    /* taken off the queue by futex_wake */
#ifdef SPURIOUS
    :: d_step { queued[me] -> queued[me] = false; inflight[me] = true }
    :: d_step { queued[me] -> queued[me] = false; inflight[me] = true; res = WAIT_TIMED_OUT }
#endif
#ifdef SLICES
    :: atomic { timeout && queued[me] -> queued[me] = false; inflight[me] = true; res = WAIT_TIMED_OUT }
#endif
    fi
  :: else
  fi
}

/* Wakes up to n sleepers; the caller clears its own pending-wake ghost in the same step. */
inline futex_wake_body(n) {
  k = n;
  do
  :: k > 0 && queued[1] -> queued[1] = false; inflight[1] = true; k--
  :: k > 0 && queued[2] -> queued[2] = false; inflight[2] = true; k--
  :: k > 0 && queued[3] -> queued[3] = false; inflight[3] = true; k--
  :: else -> break
  od
}
