/*
 * wasm/mutex/mutex.ts, the robust three-state futex mutex, with 3 processes,
 * waiting through block() (wasm/base/waiting.ts).
 *
 *   W, G  the LOCK: W the word (0 free, else holderPid | WAITERS, or
 *         WORD_NR; the futex word), G the generation (+1 per acquisition);
 *         changed only by a compare-and-swap of both (CAS_LOCK)
 *   CONS  consistency: CONSISTENT | INCONSISTENT | UNRECOVERABLE
 *   REC, RGEN, START  holderRecordPid, holderRecordGeneration and
 *         holderStartTicks (the holder's record; only with PID_REUSE)
 *
 * Pids are 1..3; bytes stand in for the u32 words (WAITERS is bit 7 here, bit
 * 31 in the code; WORD_NR is PID_MASK, as in the code); the generation never
 * wraps in these runs. Every atomic.* of the code is one Promela step
 * (atomic/d_step); every plain load/store is its own step. Each process locks
 * and unlocks ITER times. Comments give mutex/mutex.ts lines (W: waiting.ts).
 *
 * Options (spin -D...):
 *   SPURIOUS  futex waits also end spuriously or by their slice at any time
 *   DEATH     up to MAXDEATHS (2) processes die, each anywhere from its
 *             acquiring CAS to just after its releasing CAS; a sleeper's
 *             slice (livenessPollMs) then runs out once nothing else can move
 *             (SLICES, see futex.pml), and its next step checks the holder's
 *             liveness (STEP_CHECK_PEER). The OWNER_DIED holder repairs
 *             (mutexConsistent) or does not.
 *   PID_REUSE a dead process's pid may come back as a new process (a new
 *             start time) that uses the lock again; only here are the
 *             holder's record (REC, RGEN, START) and holderAlive's reads
 *             modelled
 *   DIER=p    (with DEATH) only process p may die
 *   EARLY_SLICES  (with DEATH) a slice may also run out early while a dead
 *             holder is in the way, so that two waiters race for one takeover
 *   BROKEN_NO_GENERATION  deliberately wrong (the protocol before the
 *             generation): every CAS compares the word only, and holderAlive
 *             trusts the record by its pid alone. With PID_REUSE a waiter that
 *             found the holder dead takes the lock from a NEW holder with the
 *             same pid and word (spin must find two live holders)
 *   PROCS=2   run only processes 1 and 2 (to see what a third one adds)
 *   BROKEN_WOKEN_FORGETS_WAITERS  deliberately wrong: a parked waiter takes a
 *             free lock as selfPid without WAITERS, so a release forgets the
 *             other sleepers (spin must find a lost wake-up; it takes 3
 *             processes)
 *   NO_WAKE_INVARIANT  leave out the monitor's lost-wake-up invariant (to
 *             show that the end-state check alone also catches the bug)
 *
 * Checked: no two live holders (asserted at every acquiring CAS, and mutual
 * exclusion among live processes at entry), results (OK keeps CONSISTENT;
 * OWNER_DIED only after a death; NOT_RECOVERABLE only after an unrepaired
 * release, and then forever; unlock never NOT_OWNER), no lost wake-up
 * (monitor: a queued sleeper always has WAITERS in the word, a pending wake,
 * or a woken process still on its way), and no invalid end state (nobody
 * sleeps forever). With DEATH, compile pan with -DNP and run it with -l: no
 * cycle without progress (a waiter must not time out forever behind a dead
 * holder: every cycle passes progress_acquired).
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

#ifndef GENS
#define GENS 4
#endif
#define NEXT(g) (((g) + 1) % GENS)

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
byte G;
byte CONS;
byte REC;
byte RGEN;
byte START;

bool queued[N + 1];
bool inflight[N + 1];
byte pendingWake;     /* releasers between their releasing CAS and their wake */
bool alive[N + 1];
byte incarnation[N + 1];
bool holding[N + 1];  /* ghost: a live process whose acquiring CAS is the current LOCK */
bool inCS[N + 1];
bool sliceOut[N + 1]; /* EARLY_SLICES: the sleeper's slice ran out early */
byte deaths;
bool everNR;

#ifdef DEATH
#define SLICES
#endif
#include "futex.pml"

/*
 * compare-and-swap of the LOCK (word and generation) from (ew, eg): one step;
 * ow, og = what it found. BROKEN_NO_GENERATION compares the word only.
 */
#ifdef BROKEN_NO_GENERATION
#define LOCK_IS(ew, eg) (W == ew)
#else
#define LOCK_IS(ew, eg) (W == ew && G == eg)
#endif
#define CAS_LOCK(ew, eg, nw, ng) ow = W; og = G; if :: LOCK_IS(ew, eg) -> W = nw; G = ng; ok = true :: else -> ok = false fi

#define OTHER_HOLDING (holding[1] && alive[1] && me != 1 || holding[2] && alive[2] && me != 2 || holding[3] && alive[3] && me != 3)
#define OTHERS_IN_CS (inCS[1] && alive[1] && me != 1 || inCS[2] && alive[2] && me != 2 || inCS[3] && alive[3] && me != 3)

/* a successful acquiring CAS: nobody else alive may hold the lock */
#define ACQUIRED twoHolders = OTHER_HOLDING; assert(!twoHolders); holding[me] = true

#ifdef DIER
#define MAY_DIE (deaths < MAXDEATHS && me == DIER)
#else
#define MAY_DIE (deaths < MAXDEATHS)
#endif
#ifdef DEATH
#define MAYBE_DIE \
  if \
  :: MAY_DIE -> d_step { alive[me] = false; inflight[me] = false; inCS[me] = false; holding[me] = false; deaths++ }; goto dead \
  :: skip \
  fi
#else
#define MAYBE_DIE skip
#endif

/*
 * Steps: each atomic/d_step below makes at most one access to the shared
 * words (the LOCK, CONS, REC, RGEN, START, a liveness query); what it does
 * besides is local computation or ghost bookkeeping. Locals are zeroed once
 * dead, so that states differing only in stale scratch values are one state.
 */
proctype P(byte me) {
  byte w, g, ow, og, old, st, expected, res, k, n, ticks;
  bool fresh, ok, park, checkPeer, died, liveHolder, twoHolders;

again:
  do
  :: n < ITER -> n++;
    /* mutexLock 214-218: tryAcquire 142-148 takes a free lock without WAITERS; its load
       (143) and CAS (146) are one step here: a CAS that fails after the load saw the lock
       free ends where a load of the taken lock ends (in block) */
    atomic {
      if
      :: W == 0 ->
        CAS_LOCK(0, G, me, NEXT(G));
        ACQUIRED; g = NEXT(og); ow = 0; og = 0; ok = false; died = false; goto record
      :: else -> expected = W
      fi
    };
    /* block (W:105-148): its first step (W:108, no flags) is one more tryAcquire and is left
       out, as the spin round's step covers a release that comes in between */
spin:
    /* W:111-114, spinBriefly: SPINS rounds (SPINS=0: none) of loads, a step (no flags) on a change */
#if SPINS > 0
    if
    :: atomic { W != expected -> expected = 0; fresh = true }; goto step
    :: skip
    fi;
#endif
    d_step { expected = 0; park = true; fresh = true };                                 /* W:134-136 */
    /* mutexLockStep(flags) 166-204; `fresh`: the step's load (169) is one step with its
       first decision (a CAS below that fails continues with what it found, as a later
       load would) */
step:
step_loop:
    atomic {
      if :: fresh -> fresh = false; w = W; g = G :: else fi;
      if
      :: w == WORD_NR ->                                                                /* 174 */
        w = 0; g = 0; inflight[me] = false; park = false; checkPeer = false; st = NOT_RECOVERABLE; goto result
      :: w == 0 ->                                                                      /* 175-181 */
#ifdef BROKEN_WOKEN_FORGETS_WAITERS
        CAS_LOCK(w, g, me, NEXT(g));
#else
        if
        :: park -> CAS_LOCK(w, g, me | WAITERS, NEXT(g))
        :: else -> CAS_LOCK(w, g, me, NEXT(g))
        fi;
#endif
        if
        :: ok -> ACQUIRED; ow = 0; og = 0; ok = false; g = NEXT(g); w = 0; died = false; goto record
        :: else -> w = ow; g = og; ow = 0; og = 0; goto step_loop
        fi
      :: else
      fi
    };
    if
    :: checkPeer ->                                                                     /* 183 */
#ifdef PID_REUSE
      /* holderAlive 126-138: the record's start time only if it names this acquisition */
#ifdef BROKEN_NO_GENERATION
      atomic { if :: REC == (w & PID_MASK) -> ticks = 1 :: else -> ticks = 0 fi };
      if :: ticks != 0 -> ticks = START :: else fi;
      atomic { if :: REC != (w & PID_MASK) -> ticks = 0 :: else fi };
#else
      atomic { if :: REC == (w & PID_MASK) -> ticks = 1 :: else -> ticks = 0 fi };  /* 129 */
      if :: ticks != 0 && RGEN != g -> ticks = 0 :: else fi;                           /* 130 */
      if :: ticks != 0 -> ticks = START :: else fi;                                    /* 131 */
      atomic { if :: REC != (w & PID_MASK) -> ticks = 0 :: else fi };                  /* 132 */
      if :: ticks != 0 && RGEN != g -> ticks = 0 :: else fi;                           /* 133 */
#endif
      /* processAlive (context.ts 99-102): this process's own pid by its start time */
      d_step {
        if
        :: (w & PID_MASK) == me -> liveHolder = ticks == 0 || ticks == incarnation[me]
        :: else -> liveHolder = alive[w & PID_MASK] && (ticks == 0 || ticks == incarnation[w & PID_MASK])
        fi;
        ticks = 0
      };
#else
      /* without pid reuse, holderAlive is the liveness of the pid */
      liveHolder = alive[w & PID_MASK];
#endif
      if
      :: !liveHolder ->                                                                 /* 187-190 */
        /* takeover: CAS from the LOCK observed before the liveness check */
        atomic {
          CAS_LOCK(w, g, me | WAITERS, NEXT(g));
          if
          :: ok ->
#ifndef PID_REUSE
            assert(!alive[w & PID_MASK]);
#endif
            ACQUIRED; ow = 0; og = 0; ok = false; g = NEXT(g); w = 0; liveHolder = false; died = true; goto record
          :: else -> w = ow; g = og; ow = 0; og = 0; liveHolder = false; goto step_loop
          fi
        }
      :: else -> liveHolder = false
      fi
    :: else
    fi;
    atomic {
      if
      :: park && (w & WAITERS) == 0 ->                                                  /* 192-198 */
        CAS_LOCK(w, g, w | WAITERS, g);
        if
        :: !ok -> w = ow; g = og; ow = 0; og = 0; goto step_loop
        :: else -> ow = 0; og = 0; ok = false; expected = w | WAITERS
        fi
      :: else -> expected = w                                                           /* 199 */
      fi;
      /* MUST_WAIT on the word, expecting `expected`; this process has looked */
      w = 0; g = 0; checkPeer = false; inflight[me] = false
    };
    if
    :: !park -> d_step { expected = 0; park = true; fresh = true }; goto step                          /* W:134-136 */
    :: else
    fi;
    /* W:138-142: the deadline may have passed (a finite timeoutMs); cancel is empty (207) */
    if
    :: d_step { expected = 0; park = false; st = TIMED_OUT }; goto result
    :: skip
    fi;
    futex_wait(W, expected);                                                            /* W:145 */
    /* W:146: STEP_PARK | STEP_REGISTERED, and STEP_CHECK_PEER after a whole slice */
    d_step { checkPeer = res == WAIT_TIMED_OUT || sliceOut[me]; sliceOut[me] = false; expected = 0; res = 0; fresh = true };
    goto step;

record:
    /* recordHolder 106-119 (g: the generation acquired) */
progress_acquired:
    atomic { inflight[me] = false; park = false; checkPeer = false };
    MAYBE_DIE;
#ifdef PID_REUSE
    START = incarnation[me];                                                            /* 107 */
    RGEN = g;                                                                           /* 108 */
    REC = me;                                                                           /* 111 */
#endif
    g = 0;
    if
    :: died -> died = false; CONS = INCONSISTENT; st = OWNER_DIED                       /* 112-114 */
    :: else ->
      atomic {                                                                          /* 118 */
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
        /* the caller repairs and calls mutexConsistent (257-264), or does not */
        if
        :: d_step { w = W; assert(w != WORD_NR && (w & PID_MASK) == me); w = 0 }; CONS = CONSISTENT
        :: skip
        fi
      :: else
      fi;
      d_step { inCS[me] = false; st = 0 };
      /* mutexUnlock 235-254 */
      d_step { w = W; assert(w != WORD_NR && (w & PID_MASK) == me); w = 0 };            /* 237-238 */
#ifdef PID_REUSE
      REC = 0;                                                                          /* 239 */
#endif
      if
      :: atomic { CONS == INCONSISTENT -> skip };                                       /* 240 */
        CONS = UNRECOVERABLE;                                                           /* 242 */
        /* replaceWord(NR) 221-232, 243: its load and CAS loop as one swap that keeps the
           generation (a CAS fails only when a waiter set WAITERS meanwhile; it then retries) */
        d_step { assert((W & PID_MASK) == me); W = WORD_NR; holding[me] = false; everNR = true; pendingWake++ };
        atomic { futex_wake_body(N); pendingWake--; k = 0 }                            /* 245 */
      :: atomic { CONS != INCONSISTENT -> skip };
        MAYBE_DIE;
        /* replaceWord(0) 221-232, 250: one swap that keeps the generation, as above */
        d_step { old = W; assert((old & PID_MASK) == me); W = 0; holding[me] = false; if :: old & WAITERS -> pendingWake++ :: else fi };
        MAYBE_DIE;
        if
        :: old & WAITERS -> atomic { old = 0; futex_wake_body(1); pendingWake--; k = 0 } /* 252 */
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
  d_step { w = 0; g = 0; ow = 0; og = 0; old = 0; st = 0; expected = 0; res = 0; ok = false; park = false; checkPeer = false; died = false };
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

#ifdef EARLY_SLICES
/*
 * A sleeper's slice may also run out early, but only while a dead holder is in
 * the way (the word names a holder and no live process holds it): so two
 * waiters can find the same dead holder and race for the takeover while
 * others still move, without the spurious wake-ups of SPURIOUS.
 */
#define DEAD_IN_THE_WAY (W != 0 && W != WORD_NR && !holding[1] && !holding[2] && !holding[3])
active proctype slices() {
end:
  do
  :: atomic { DEAD_IN_THE_WAY && queued[1] -> queued[1] = false; inflight[1] = true; sliceOut[1] = true }
  :: atomic { DEAD_IN_THE_WAY && queued[2] -> queued[2] = false; inflight[2] = true; sliceOut[2] = true }
  :: atomic { DEAD_IN_THE_WAY && queued[3] -> queued[3] = false; inflight[3] = true; sliceOut[3] = true }
  od
}
#endif

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
