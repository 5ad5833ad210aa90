/*
 * wasm/mutex.ts, the robust three-state futex mutex, with 3 processes.
 *
 *   W     the mutex word: 0 free, else holderPid | WAITERS, or WORD_NR
 *   CONS  consistency: CONSISTENT | INCONSISTENT | UNRECOVERABLE
 *   REC   holderRecordPid, START holderStartTicks (the holder's record)
 *
 * Pids are 1..3; bytes stand in for the u32 words (WAITERS is bit 7 here, bit
 * 31 in the code; WORD_NR is PID_MASK, as in the code). Every atomic.* of the
 * code is one Promela step (d_step); every plain load/store is its own step.
 * Each process locks and unlocks ITER times. Comments give mutex.ts lines.
 *
 * Options (spin -D...):
 *   SPURIOUS  futex waits also end spuriously or by their slice at any time
 *   DEATH     up to MAXDEATHS (2) processes die, each anywhere from its
 *             acquiring CAS to just after its releasing swap; a sleeper's
 *             slice (livenessPollMs) then runs out once nothing else can move
 *             (SLICES, see futex.pml), and it checks the holder's liveness.
 *             The OWNER_DIED holder repairs (mutexConsistent) or does not.
 *   PID_REUSE a dead process's pid may come back as a new process (a new
 *             start time) that uses the lock again; only here are the
 *             holder's record (REC, START) and recordedHolderAlive's reads modelled
 *   PROCS=2   run only processes 1 and 2 (to see what a third one adds)
 *   BROKEN_WOKEN_FORGETS_WAITERS  deliberately wrong: lockStep takes a free
 *             lock as selfPid without WAITERS, so a release forgets the other
 *             sleepers (spin must find a lost wake-up; it takes 3 processes)
 *   NO_WAKE_INVARIANT  leave out the monitor's lost-wake-up invariant (to
 *             show that the end-state check alone also catches the bug)
 *
 * Checked: mutual exclusion among live processes (assert at entry), results
 * (OK keeps CONSISTENT; OWNER_DIED only after a death; NOT_RECOVERABLE only
 * after an unrepaired release, and then forever; unlock never NOT_OWNER), no
 * lost wake-up (monitor: a queued sleeper always has WAITERS in the word, a
 * pending wake, or a woken process still on its way), and no invalid end
 * state (nobody sleeps forever). With DEATH, compile pan with -DNP and run
 * it with -l: no cycle without progress (a waiter must not time out forever
 * behind a dead holder: every cycle passes progress_acquired).
 */

#define N 3
#ifndef ITER
#define ITER 2
#endif
#ifndef SPINS
#define SPINS 1
#endif
#ifndef PROCS
#define PROCS 3
#endif
#ifndef MAXDEATHS
#define MAXDEATHS 2
#endif

#define WAITERS  128
#define PID_MASK 63
#define WORD_NR  63

#define CONSISTENT    0
#define INCONSISTENT  1
#define UNRECOVERABLE 2

#define OK              0
#define TIMED_OUT       1
#define OWNER_DIED      3
#define NOT_RECOVERABLE 4
#define MUST_WAIT       6

byte W;
byte CONS;
byte REC;
byte START;

bool queued[N + 1];
bool inflight[N + 1];
byte pendingWake;     /* releasers between their swap/store and their wake */
bool alive[N + 1];
byte incarnation[N + 1];
bool inCS[N + 1];
byte deaths;
bool everNR;

#ifdef DEATH
#define SLICES
#endif
#include "futex.pml"

/* compare-and-swap on W: one step, old = the value found */
#define CAS(expect, new) old = W; if :: W == expect -> W = new :: else fi

#define OTHERS_IN_CS (inCS[1] && alive[1] && me != 1 || inCS[2] && alive[2] && me != 2 || inCS[3] && alive[3] && me != 3)

#ifdef DEATH
#define MAYBE_DIE \
  if \
  :: deaths < MAXDEATHS -> d_step { alive[me] = false; inflight[me] = false; inCS[me] = false; deaths++ }; goto dead \
  :: skip \
  fi
#else
#define MAYBE_DIE skip
#endif

/*
 * Steps: each atomic/d_step below makes at most one access to the shared
 * words (W, CONS, REC, START, a liveness query); what it does besides is
 * local computation or ghost bookkeeping. Locals are zeroed once dead, so that
 * states differing only in stale scratch values are one state.
 */
proctype P(byte me) {
  byte w, old, st, expected, res, k, n, ticks;
  bool checkHolder, died, liveHolder;

again:
  do
  :: n < ITER -> n++;
    /* mutexLock, 160: the uncontended fast path takes a free lock without WAITERS */
    atomic { CAS(0, me); if :: old == 0 -> old = 0; died = false; goto record :: else -> old = 0 fi };
#if SPINS > 0
    /* lockContended, 132-139, one round of its spin (SPINS=0: none): load, CAS only if it looks free */
    atomic { w = W; if :: w == WORD_NR -> w = 0; st = NOT_RECOVERABLE; goto result :: else fi };
    atomic {
      if
      :: w == 0 -> CAS(0, me); if :: old == 0 -> old = 0; died = false; goto record :: else -> old = 0 fi
      :: else -> w = 0
      fi
    };
#endif
    checkHolder = false;
step:
    /* mutexLockStep, 103-128 */
    w = W;                                                                              /* 105 */
step_loop:
    atomic {
      if
      :: w == WORD_NR -> w = 0; inflight[me] = false; checkHolder = false; st = NOT_RECOVERABLE; goto result /* 107 */
      :: w == 0 ->                                                                      /* 108-112 */
#ifdef BROKEN_WOKEN_FORGETS_WAITERS
        CAS(0, me);
#else
        CAS(0, me | WAITERS);
#endif
        if
        :: old == 0 -> old = 0; died = false; goto record
        :: else -> w = old; old = 0; goto step_loop
        fi
      :: else
      fi
    };
    if
    :: checkHolder ->                                                                   /* 115 */
#ifdef PID_REUSE
      /* recordedHolderAlive (context.ts 61-68): the record's start time only if the record's pid matches */
      atomic { if :: REC == (w & PID_MASK) -> ticks = START :: else -> ticks = 0 fi };
      atomic { if :: REC != (w & PID_MASK) -> ticks = 0 :: else fi };
      /* processAlive (context.ts 75-78): this process is always alive to itself */
      d_step {
        liveHolder = (w & PID_MASK) == me ||
          alive[w & PID_MASK] && (ticks == 0 || ticks == incarnation[w & PID_MASK]);
        ticks = 0
      };
#else
      /* without pid reuse, holderAlive is the liveness of the pid */
      liveHolder = alive[w & PID_MASK];
#endif
      if
      :: !liveHolder ->                                                                 /* 116-119 */
        atomic {
          CAS(w, me | WAITERS);
          if
          :: old == w ->
#ifndef PID_REUSE
            assert(!alive[w & PID_MASK]);
#endif
            old = 0; liveHolder = false; died = true; goto record
          :: else -> w = old; old = 0; liveHolder = false; goto step_loop
          fi
        }
      :: else -> liveHolder = false
      fi
    :: else
    fi;
    atomic {
      if
      :: (w & WAITERS) == 0 ->                                                          /* 121-124 */
        CAS(w, w | WAITERS);
        if
        :: old != w -> w = old; old = 0; goto step_loop
        :: else -> old = 0
        fi
      :: else
      fi;
      /* 125: MUST_WAIT on the word, expecting it with WAITERS; this process has looked */
      expected = w | WAITERS; w = 0; checkHolder = false; inflight[me] = false
    };
    /* lockContended, 145-146: the deadline may have passed (a finite timeoutMs) */
    if
    :: expected = 0; st = TIMED_OUT; goto result
    :: skip
    fi;
    futex_wait(W, expected);                                                            /* 149 */
    d_step { checkHolder = res == WAIT_TIMED_OUT; expected = 0; res = 0 };
    goto step;

record:
    /* recordHolder, 75-85 */
progress_acquired:
    inflight[me] = false;
    MAYBE_DIE;
#ifdef PID_REUSE
    START = incarnation[me];
    REC = me;
#endif
    if
    :: died -> died = false; CONS = INCONSISTENT; st = OWNER_DIED
    :: else ->
      atomic {
        if
        :: CONS == INCONSISTENT -> st = OWNER_DIED
        :: else -> st = OK
        fi
      }
    fi;

result:
    if
    :: st == OK || st == OWNER_DIED ->
      d_step {
        assert(!OTHERS_IN_CS);
        assert(st == OWNER_DIED || CONS == CONSISTENT);
        assert(st == OK || deaths > 0);
        inCS[me] = true
      };
      MAYBE_DIE;
      if
      :: st == OWNER_DIED ->
        /* the caller repairs and calls mutexConsistent (186-193), or does not */
        if
        :: d_step { w = W; assert(w != WORD_NR && (w & PID_MASK) == me); w = 0 }; CONS = CONSISTENT
        :: skip
        fi
      :: else
      fi;
      d_step { inCS[me] = false; st = 0 };
      /* mutexUnlock, 165-183 */
      d_step { w = W; assert(w != WORD_NR && (w & PID_MASK) == me); w = 0 };            /* 167-168 */
      if
      :: atomic { CONS == INCONSISTENT -> skip };                                       /* 169-176 */
        CONS = UNRECOVERABLE;
#ifdef PID_REUSE
        REC = 0;
#endif
        d_step { W = WORD_NR; everNR = true; pendingWake++ };
        atomic { futex_wake_body(N); pendingWake--; k = 0 }
      :: atomic { CONS != INCONSISTENT -> skip };
#ifdef PID_REUSE
        REC = 0;                                                                        /* 177 */
#endif
        MAYBE_DIE;
        d_step { old = W; W = 0; if :: old & WAITERS -> pendingWake++ :: else fi };      /* 180 */
        MAYBE_DIE;
        if
        :: old & WAITERS -> atomic { old = 0; futex_wake_body(1); pendingWake--; k = 0 } /* 181 */
        :: else -> old = 0
        fi
      fi
    :: st == NOT_RECOVERABLE -> assert(everNR); goto done
    :: st == TIMED_OUT -> st = 0
    fi
  :: else -> break
  od;
  goto done;

dead:
  skip;
  d_step { w = 0; old = 0; st = 0; expected = 0; res = 0; checkHolder = false; died = false };
#ifdef PID_REUSE
  /* the pid comes back as a new process: a new start time, fresh state */
  if
  :: d_step { alive[me] = true; incarnation[me]++; n = 0 }; goto again
  :: skip
  fi;
#endif
done:
  skip
}

/* No lost wake-up: while anybody is queued, someone is bound to wake it. */
active proctype monitor() {
end:
  do
#if !defined(DEATH) && !defined(NO_WAKE_INVARIANT)
  :: d_step { ANY_QUEUED && !(W & WAITERS) && pendingWake == 0 && !ANY_INFLIGHT -> assert(false) }
#endif
  :: d_step { everNR && W != WORD_NR -> assert(false) }
  od
}

init {
  atomic {
    alive[1] = true; alive[2] = true; alive[3] = true;
    incarnation[1] = 1; incarnation[2] = 1; incarnation[3] = 1;
    run P(1); run P(2);
#if PROCS > 2
    run P(3)
#endif
    skip
  }
}
