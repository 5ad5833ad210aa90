/*
 * wasm/semaphore/semaphore.ts, the counting semaphore, with 3 processes,
 * waiting through block() (wasm/base/waiting.ts).
 *
 *   V  value, the futex word: permits available now
 *   S  sleepers: processes registered as (about to be) asleep
 *
 * Every atomic.* of the code is one Promela step; plain loads and stores are
 * their own steps; what a step does besides is local or ghost bookkeeping.
 * Comments give semaphore/semaphore.ts lines (W: base/waiting.ts).
 *
 * A wait is semaphoreWait (which may give up after a failed park step, as a
 * finite timeout does, withdrawing its registration and passing on a wake-up
 * it may have taken, semaphoreCancelWait); a post is semaphorePost of 1, or 2 with POST2. Every
 * workload can satisfy all its waits, so a process left asleep at the end is
 * a lost post, not a starved workload (ghost `credit`: INIT plus posts
 * started, minus waits started, plus waits given up; it ends equal to V):
 *   WORKLOAD=0  mixed: ITER operations each, wait or post at random; a wait
 *               starts only when credit > 0 (this serialises waits: never
 *               two sleepers at once, so it checks orders, not crowds)
 *   WORKLOAD=1  lock: INIT=1, ITER rounds each of wait, then post the permit
 *               back if the wait took it (up to two sleepers)
 *   WORKLOAD=2  hand-off: processes 1 and 2 wait ITER times each; process 3
 *               posts 2 permits per round (two posts of 1, or one post of 2
 *               with POST2, one futex wake of 2)
 *
 * Options (spin -D...):
 *   SPURIOUS  futex waits also end spuriously or by their time slice
 *   SPINS=0   no spin round before parking (default 1)
 *   POST2     posts of 2 as well (one wake of count 2)
 *   INIT=n    initial value (default 0; 1 for WORKLOAD=1)
 *   MAXV=n    maximum (default: room for every post of the workload); with
 *             ALLOW_OVERFLOW a post may fail with OVERFLOW and takes its
 *             promise back, so a wait may be left unsatisfiable: run pan
 *             with -E (no end-state check) for that configuration
 *   BROKEN_STALE_SLEEPERS  deliberately wrong: the poster reads `sleepers`
 *             BEFORE its compare-and-swap on the value, so it may act on a
 *             stale count and skip the wake (spin must find a lost post)
 *   NO_WAKE_INVARIANT  leave out the monitor's lost-post invariant (to show
 *             that the end-state check alone also catches the bug)
 *
 * Checked: conservation (V == INIT + posted - taken in every state, never
 * above MAXV), no lost post (monitor: a queued sleeper while V > 0 always has
 * a poster on its way to wake, or a woken process still on its way to look),
 * and no invalid end state: every wait returns, and at the end V == credit,
 * S == 0 and nobody is queued.
 */

#define N 3
#ifndef ITER
#define ITER 2
#endif
#ifndef WORKLOAD
#define WORKLOAD 0
#endif
#ifndef SPINS
#define SPINS 1
#endif
#ifndef INIT
#if WORKLOAD == 1
#define INIT 1
#else
#define INIT 0
#endif
#endif
#ifndef MAXV
#define MAXV (INIT + N * ITER * 2)
#endif

#define OK          0
#define TIMED_OUT   1
#define WOULD_BLOCK 2
#define MUST_WAIT   6
#define OVERFLOW    11

byte V = INIT;
byte S;

bool queued[N + 1];
bool inflight[N + 1];
short credit = INIT;   /* permits not yet promised to a started wait */
byte posted;          /* permits added by completed compare-and-swaps */
byte taken;           /* permits removed by completed compare-and-swaps */
byte pendingPost;     /* posters between their CAS and their wake decision */
byte finished;

#include "futex.pml"

/* semaphoreTryWait, 76-89: st = OK (took one) or WOULD_BLOCK */
inline try_wait() {
  d_step { v = V; st = WOULD_BLOCK };                                        /* 78 */
  do
  :: atomic {
       v > 0 ->                                                              /* 79 */
       old = V;                                                              /* 81 */
       if
       :: V == v -> V = v - 1; taken++; st = OK
       :: else
       fi;
       if
       :: old == v -> v = 0; old = 0; break                                  /* 82-85 */
       :: else -> v = old; old = 0                                           /* 86 */
       fi
     }
  :: atomic { v == 0 -> break }                                              /* 88 */
  od
}

proctype P(byte me) {
  byte v, old, st, res, k, n, count, s;
  bool park, registered, again;

  do
  :: n < ITER -> n++;
#if WORKLOAD == 0
    if
    :: atomic { credit > 0 -> credit-- }; goto wait
    :: atomic { count = 1; credit = credit + 1 }; goto post
#ifdef POST2
    :: atomic { count = 2; credit = credit + 2 }; goto post
#endif
    fi;
#elif WORKLOAD == 1
    d_step { credit-- }; goto wait;
#else
    if
#ifdef POST2
    :: me == N -> d_step { count = 2; credit = credit + 2 }; goto post
#else
    :: me == N -> d_step { count = 1; credit = credit + 1; again = true }; goto post
#endif
    :: else -> d_step { credit-- }; goto wait
    fi;
#endif
wait:
      /* semaphoreWait 132-135: tryWait (133), then block (W:105-148), whose first step
         (W:108, no flags) is one more tryWait and MUST_WAIT: it is left out, as the spin
         round's step covers a permit that comes in between */
      try_wait();                                                            /* 133 */
      if
      :: st == OK -> goto took
      :: else
      fi;
      /* W:111-114: one spin round (SPINS=0: none): a step (no flags) if the value moved */
#if SPINS > 0
      if
      :: atomic { V != 0 -> skip }; goto step
      :: skip
      fi;
#endif
      park = true;                                                           /* W:134 */
step:
      /* semaphoreWaitStep(flags) 97-113: flags are `park` (STEP_PARK) and `registered` (STEP_REGISTERED) */
      if
      :: registered -> d_step { S--; registered = false }                    /* 99 */
      :: else
      fi;
      try_wait();                                                            /* 100 */
      if
      :: st == OK -> goto took
      :: else
      fi;
      if
      :: !park -> goto must_wait                                             /* 101-104 */
      :: else
      fi;
      d_step { S++; registered = true };                                     /* 105 */
      atomic {
        v = V;                                                               /* 107 */
        if
        :: v == 0 -> v = 0; inflight[me] = false; st = MUST_WAIT             /* 111 */
        :: else -> v = 0; st = 0
        fi
      };
      if
      :: st == MUST_WAIT -> st = 0; goto must_wait
      :: else
      fi;
      try_wait();                                                            /* 107 */
      if
      :: st == OK -> d_step { S--; registered = false }; goto took           /* 108-109 */
      :: else -> d_step { inflight[me] = false; st = 0 }                     /* 111 */
      fi;
must_wait:
      if
      :: !park -> park = true; goto step                                   /* W:134-136 */
      :: else
      fi;
      /* W:138-142: the deadline may have passed: semaphoreWaitCancel (120-129), TIMED_OUT */
      if
      :: d_step { S--; s = S; credit++; registered = false; park = false };  /* 122 */
        if
        :: s != 0 -> atomic { v = V; if :: v != 0 -> pendingPost++ :: else fi }    /* 123 */
        :: else
        fi;
        if
        :: v != 0 -> atomic { futex_wake_body(1); pendingPost--; k = 0; v = 0 }      /* 123 */
        :: else
        fi;
        s = 0;
        goto next
      :: skip
      fi;
      futex_wait(V, 0);                                                      /* W:145 */
      res = 0;                                                               /* W:146: STEP_PARK | STEP_REGISTERED */
      goto step;
took:
      skip;
      d_step { inflight[me] = false; st = 0; park = false };
#if WORKLOAD == 1
      d_step { count = 1; credit = credit + 1 }; goto post;
#endif
      goto next;
post:
    /* semaphorePost(count), 142-162 */
#ifdef BROKEN_STALE_SLEEPERS
    s = S;
#endif
    v = V;                                                                   /* 146 */
    do
    :: atomic {
         (count > MAXV || v > MAXV - count) -> v = 0; st = OVERFLOW; break   /* 149 */
       }
    :: atomic {
         !(count > MAXV || v > MAXV - count) ->
         old = V;                                                            /* 151 */
         if
         :: V == v -> V = v + count; posted = posted + count; pendingPost++
         :: else
         fi;
         if
         :: old == v -> v = 0; old = 0; st = OK; break                       /* 152-155 */
         :: else -> v = old; old = 0                                         /* 156 */
         fi
       }
    od;
#ifdef ALLOW_OVERFLOW
    if
    :: st == OVERFLOW -> d_step { credit = credit - count; count = 0; st = 0 }; goto next
    :: else
    fi;
#else
    assert(st == OK);   /* MAXV leaves room for every post of the workload */
#endif
    atomic {
#ifndef BROKEN_STALE_SLEEPERS
      s = S;                                                                 /* 160 */
#endif
      if
      :: s == 0 -> pendingPost--
      :: else
      fi
    };
    if
    :: s != 0 -> atomic { futex_wake_body(count); pendingPost--; k = 0 }     /* 160 */
    :: else
    fi;
    d_step { s = 0; count = 0; st = 0 };
    if
    :: again -> d_step { again = false; count = 1; credit = credit + 1 }; goto post
    :: else
    fi;
next:
    skip
  :: else -> break
  od;
  finished++
}

active proctype monitor() {
end:
  do
  :: d_step { V != INIT + posted - taken || V > MAXV -> assert(false) }
#ifndef NO_WAKE_INVARIANT
  :: d_step { ANY_QUEUED && V > 0 && pendingPost == 0 && !ANY_INFLIGHT -> assert(false) }
#endif
  :: d_step { finished == N && (V != credit || S != 0 || ANY_QUEUED) -> assert(false) }
  od
}

init {
  atomic { run P(1); run P(2); run P(3) }
}
