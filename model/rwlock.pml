/*
 * wasm/rwlock/ (rwlock.ts, readers.ts, locking.ts), the reader-writer lock, with 3 live
 * processes (no deaths): READERS readers (pids 1..READERS) and 3 - READERS
 * writers (the other pids).
 *
 *   STATE  the writer word: 0 or writerPid | WAITERS (futex: waiting lockers)
 *   PHASE  DRAINING | HOLDING, written by the claiming writer alone
 *   EXITS  sequence (bits 0-6 here, 0-30 in the code) | SLEEPING (bit 7 here,
 *          31 in the code) (futex: the draining writer)
 *   SLOT[] one slot per reader (slotCount = READERS): pid * 16 + count here,
 *          pid << 32 | count in the code
 *
 * Every atomic.* of the code is one Promela step; plain loads and stores are
 * their own steps; what a step does besides is local or ghost bookkeeping.
 * Comments give line numbers: rwlock/rwlock.ts (plain), rwlock/readers.ts (R:),
 * rwlock/locking.ts (L:), base/waiting.ts (W:, block()).
 * Two futex words, so the futex of futex.pml (same semantics: check and
 * queue in one step, wake takes queued sleepers off) is written here per word.
 *
 * Left out, because nothing can read a difference without deaths:
 * CONSISTENCY (always CONSISTENT: only takers of a dead writer's lock and
 * unrepaired releases change it), so its loads (R:85, 115, 179, L:42, L:96)
 * are not steps; the holder record (HOLDER_START, HOLDER_RECORD_PID) and the
 * slots' start times, read only by recordedHolderAlive / reapDead; slotCount (a
 * constant). checkHolder (after a sleep that ran its slice, SPURIOUS) only
 * adds loads then: every holder and slot owner is alive, so holderAlive is
 * true and reapDead frees nothing.
 *
 * A reader does ITER times rwlockRead (tryRead, then block() over
 * rwlockReadStep), reads, rwlockReadUnlock. A writer does ITER times
 * rwlockWrite (block() over rwlockWriteStep, which continues the drain of a
 * claim kept for its call token), writes, rwlockWriteUnlock. block() makes a
 * first step, a spin round and then the park loop (step, deadline, hostWait);
 * rwlock steps ignore STEP_PARK, so these are all the same step, and the
 * model makes them one loop: step, deadline, futex_wait. The code's extra
 * steps (the spin round's, and the park loop's first right after the first
 * step) each follow a step without a sleep between: if the word the last
 * step named has changed, futex_wait returns at once and the next step
 * follows, as in the code; if not, the step finds what the last one found
 * and names the same word and value again. The model may so give up one step
 * earlier than the code can (more behaviours, not fewer). Both may give up
 * after a MUST_WAIT (a finite timeoutMs; rwlockLockCancel then gives a
 * draining claim up).
 *
 * Options (spin -D...):
 *   READERS=2     2 readers + 1 writer (default); READERS=1: 1 reader + 2 writers
 *   SPURIOUS      futex waits also end spuriously or by their slice at any time
 *   BROKEN_NO_RECHECK  deliberately wrong: confirmReader (R:89-95) does not
 *                 re-read `state` after counting up, so a writer that claimed
 *                 between the reader's first look and its count goes unseen
 *   BROKEN_EXITS_FIRST  deliberately wrong: leaveSlot reads `exits` before
 *                 counting down instead of after (R:63-71), so a writer that
 *                 arms SLEEPING in between and still sees the count sleeps for
 *                 ever (spin must find the lost wake-up)
 *   NO_WAKE_INVARIANT  leave out the monitor's lost-wake-up invariants (to
 *                 show that the end-state check alone also catches the bug)
 *   COVER_BACKOFF an assert(false) where a reader backs off in confirmReader:
 *                 spin must reach it (the claim race is really explored)
 *
 * Checked: writers exclusive with each other and with readers (asserted on
 * entry, and by the monitor in every state); a write unlock finds its own
 * claim and HOLDING; no invalid end state (nobody sleeps forever); and no
 * lost wake-up (monitor): a sleeper queued on STATE has WAITERS in STATE or a
 * releaser between its swap and its wake; a sleeper queued on EXITS has a
 * leaver between its sequence bump and its wake, or SLEEPING in EXITS and a
 * reader still counted in a slot or between its count-down and its read of
 * EXITS.
 */

#define N 3
#ifndef ITER
#define ITER 2
#endif
#ifndef READERS
#define READERS 2
#endif
#define NS READERS

#define WAITERS  128
#define PID_MASK 63
#define SLEEPING 128
#define SEQ_MASK 127
#define DRAINING 0
#define HOLDING  1
#define NONE     255

#define SPID(w) ((w) / 16)
#define CNT(w)  ((w) % 16)

#define WAIT_WOKEN     0
#define WAIT_NOT_EQUAL 1
#define WAIT_TIMED_OUT 2
#define Q_STATE 1
#define Q_EXITS 2

byte STATE;
byte PHASE;
byte EXITS;
byte SLOT[NS];

byte qon[N + 1];      /* the futex word a process is queued on: 0, Q_STATE, Q_EXITS */
byte pendingState;    /* releasers between their swap of STATE and their wake */
byte pendingExits;    /* leavers between their bump of EXITS and their wake */
bool leaving[N + 1];  /* readers between a count-down and their decision on EXITS */
byte nreaders;        /* ghost: processes in a read critical section */
byte nwriters;        /* ghost: processes in a write critical section */
#ifdef COVER_BACKOFF
bool coverBackoff;    /* set where a reader backs off from a claim it did not see at first */
byte claims;          /* writer claims so far */
byte writing;         /* writers past drain (until their swap) */
#endif

#define QUEUED_ON(q) (qon[1] == q || qon[2] == q || qon[3] == q)
#define ANY_LEAVING  (leaving[1] || leaving[2] || leaving[3])
#if NS == 1
#define ANY_COUNT (CNT(SLOT[0]) != 0)
#else
#define ANY_COUNT (CNT(SLOT[0]) != 0 || CNT(SLOT[1]) != 0)
#endif

/* futex_wait (futex.pml) on one of the two words */
inline futex_wait(word, q, expected) {
  d_step {
    if
    :: word == expected -> qon[me] = q; res = WAIT_WOKEN
    :: else -> res = WAIT_NOT_EQUAL
    fi
  };
  if
  :: res == WAIT_WOKEN ->
    if
    :: qon[me] == 0                   /* taken off the queue by a wake */
#ifdef SPURIOUS
    :: d_step { qon[me] != 0 -> qon[me] = 0 }
    :: d_step { qon[me] != 0 -> qon[me] = 0; res = WAIT_TIMED_OUT }
#endif
    fi
  :: else
  fi
}

/* hostWake(word, i32.MAX_VALUE): every sleeper queued on that word */
inline futex_wake_all(q) {
  if :: qon[1] == q -> qon[1] = 0 :: else fi;
  if :: qon[2] == q -> qon[2] = 0 :: else fi;
  if :: qon[3] == q -> qon[3] = 0 :: else fi
}

/*
 * leaveSlot R:62-80 on slot idx: count down, then read EXITS and, if
 * SLEEPING, bump the sequence (clearing SLEEPING) and wake all there.
 */
inline leave_slot() {
#ifdef BROKEN_EXITS_FIRST
  x = EXITS;                                                                           /* wrong: before the count-down */
#endif
  w = SLOT[idx];                                                                       /* R:63 */
  do
  :: SPID(w) == me && CNT(w) != 0 ->                                                   /* R:64 */
    d_step {                                                                           /* R:65 */
      old = SLOT[idx];
      if :: old == w -> SLOT[idx] = w - 1; leaving[me] = true :: else fi
    };
    if :: old == w -> break :: else -> w = old fi                                     /* R:66-67 */
  :: else -> break
  od;
#ifdef BROKEN_EXITS_FIRST
  atomic { if :: (x & SLEEPING) == 0 -> leaving[me] = false :: else fi };
#else
  atomic { x = EXITS; if :: (x & SLEEPING) == 0 -> leaving[me] = false :: else fi };   /* R:71 */
#endif
  do
  :: (x & SLEEPING) != 0 ->                                                            /* R:72 */
    d_step {                                                                           /* R:73 */
      old = EXITS;
      if
      :: old == x -> EXITS = (x + 1) & SEQ_MASK; pendingExits++; leaving[me] = false
      :: else -> if :: (old & SLEEPING) == 0 -> leaving[me] = false :: else fi
      fi
    };
    if
    :: old == x -> d_step { futex_wake_all(Q_EXITS); pendingExits-- }; break         /* R:74-76 */
    :: else -> x = old                                                                 /* R:78 */
    fi
  :: else -> break
  od;
  atomic { w = 0; old = 0; x = 0 }
}

proctype Reader(byte me) {
  byte w, old, x, st, res, i, idx, free, expected, n, ph;
#ifdef COVER_BACKOFF
  byte seenClaims;
#endif
  bool open;

  do
  :: n < ITER -> n++;
    ph = 1;                                   /* L:58: rwlockTryRead (L:36-54) */
enter:
    /* readEnter R:103-137 (slotCount R:104-105: a constant) */
    atomic {                                                                           /* R:106, R:85 */
      open = STATE == 0;
#ifdef COVER_BACKOFF
      seenClaims = claims
#endif
    };
    if :: !open -> d_step { w = STATE; w = 0 } :: else fi;                             /* R:107, never NR */
    d_step { i = 0; idx = me % NS; free = NONE };
scan:
    if
    :: i < NS ->                                                                       /* R:112 */
      w = SLOT[idx];                                                                   /* R:114 */
incr:
      if
      :: SPID(w) == me && !(CNT(w) == 0 && !open) ->                                   /* R:115-117 */
        d_step {                                                                       /* R:119 */
          old = SLOT[idx];
          if :: old == w -> SLOT[idx] = w + 1 :: else fi
        };
        if
        :: old == w && CNT(w) == 0 -> goto confirm                                     /* R:120 */
        :: old == w && CNT(w) != 0 -> st = 0; goto entered
        :: else -> w = old; old = 0; goto incr                                         /* R:121 */
        fi
      :: else
      fi;
      d_step {                                                                         /* R:123-128 */
        if :: w == 0 && free == NONE -> free = idx :: else fi;
        w = 0; i++; idx = (idx + 1) % NS
      };
      goto scan
    :: else
    fi;
    if
    :: !open -> d_step { i = 0; idx = 0; free = NONE }; goto would_block               /* R:130 */
    :: else
    fi;
    /* one slot per reader: there is always a free one, so freeSlot (R:132) and NO_SLOT (R:133) are unreachable */
    assert(free != NONE);
    d_step { idx = free; free = NONE; i = 0 };
    d_step {                                                                           /* R:134 */
      old = SLOT[idx];
      if :: old == 0 -> SLOT[idx] = me * 16 + 1 :: else fi
    };
    if :: old != 0 -> d_step { old = 0; idx = 0 }; goto enter :: else fi               /* RETRY */
    /* R:135: the start time store, read only by reapDead: left out */
confirm:
    /* confirmReader R:89-95 */
#ifndef BROKEN_NO_RECHECK
    atomic { open = STATE == 0 };                                                      /* R:92, R:85 */
    if
    :: !open ->
#ifdef COVER_BACKOFF
      /* a writer claimed after this reader's first look (R:106) and is still draining */
      atomic { coverBackoff = claims != seenClaims && STATE != 0 && PHASE == DRAINING && writing == 0; assert(!coverBackoff) };
#endif
      leave_slot(); d_step { idx = 0; i = 0; free = NONE }; goto would_block                        /* R:93-94 */
    :: else
    fi;
#endif
    atomic { idx = 0; i = 0; old = 0; w = 0; free = NONE };
    st = 0;
entered:
    /* OK: reading */
    atomic { assert(nwriters == 0); nreaders++; st = 0; open = false; ph = 0 };
    d_step { nreaders-- };
    /* rwlockReadUnlock L:73-86 */
    d_step { i = 0; idx = me % NS };
    do
    :: i < NS ->
      w = SLOT[idx];                                                                   /* L:79 */
      if
      :: SPID(w) == me && CNT(w) != 0 -> break                                         /* L:80 */
      :: else -> d_step { w = 0; i++; idx = (idx + 1) % NS }
      fi
    :: else -> assert(false)                                                           /* NOT_OWNER: never */
    od;
    leave_slot();                                                                      /* L:81 */
    d_step { i = 0; idx = 0 };
    goto next;

would_block:
    open = false;
    if
    :: ph == 1 -> ph = 3; goto enter          /* L:59-60: tryRead WOULD_BLOCK (L:42: CONSISTENT); block's steps (W:108, W:136) */
    :: else ->
      /* rwlockReadStep 208-236 (no claim for its token, 210): readEnter WOULD_BLOCK, claim(reader) 110-159 (229) */
      w = STATE;                                                                       /* 111 */
rclaim:
      atomic {
        if
        :: w == 0 -> goto enter                                                        /* 114-115: RETRY, 230 */
        :: else
        fi
      };
      atomic {
        if
        :: (w & WAITERS) == 0 ->                                                       /* 147-148 */
          old = STATE;
          if :: old == w -> STATE = w | WAITERS :: else fi;
          if :: old != w -> w = old; old = 0; goto rclaim :: else -> old = 0 fi        /* 149-152 */
        :: else
        fi;
        expected = w | WAITERS; w = 0                                                  /* 154-155 */
      };
      if
      :: d_step { expected = 0; ph = 0 }; goto next                                    /* W:138-142: TIMED_OUT (cancel: no claim, 249) */
      :: skip
      fi;
      futex_wait(STATE, Q_STATE, expected);                                            /* W:145 */
      d_step { expected = 0; res = 0 };
      goto enter
    fi;
next:
    skip
  :: else -> break
  od
}

proctype Writer(byte me) {
  byte w, old, x, expected, res, n, i, q;
  bool claimed, present;

  do
  :: n < ITER -> n++;
step:
    /* rwlockWrite L:68-70: block (W:105-148) over rwlockWriteStep 239-245; `claimed`: a claim kept
       for this call's token (continueDrain, 241) */
    if :: claimed -> goto drain :: else fi;                                            /* 241 */
    /* claim(writer) 110-159 (242) */
    w = STATE;                                                                         /* 111 */
claim_loop:
    atomic {
      if
      :: w == 0 ->                                                                     /* 114-122 */
        old = STATE;
        if :: old == 0 -> STATE = me :: else fi;
#ifdef COVER_BACKOFF
        if :: old == 0 -> claims++ :: else fi;
#endif
        if :: old == 0 -> goto record :: else -> w = old; old = 0; goto claim_loop fi
      :: else
      fi
    };
    atomic {
      if
      :: (w & WAITERS) == 0 ->                                                         /* 147-153 */
        old = STATE;
        if :: old == w -> STATE = w | WAITERS :: else fi;
        if :: old != w -> w = old; old = 0; goto claim_loop :: else -> old = 0 fi
      :: else
      fi;
      expected = w | WAITERS; w = 0; q = Q_STATE                                       /* 154-155 */
    };
    goto must_wait;

record:
    /* recordHolder 89-95: the record stores are left out (read only by recordedHolderAlive) */
    PHASE = DRAINING;                                                                  /* 94 */
drain:
    /* drain 162-180 (slotCount 163-167: a constant) */
    atomic { claimed = false; i = 0; present = false };
    do                                                                                 /* 168: readersPresent R:43-48 */
    :: i < NS -> d_step { present = CNT(SLOT[i]) != 0; i++ }; if :: present -> break :: else fi
    :: else -> break
    od;
    if
    :: present ->
      /* armExits R:51-59 */
      d_step { i = 0; present = false };
      x = EXITS;                                                                       /* R:52 */
      do
      :: (x & SLEEPING) == 0 ->                                                        /* R:53 */
        d_step {                                                                       /* R:54 */
          old = EXITS;
          if :: old == x -> EXITS = x | SLEEPING :: else fi
        };
        if :: old == x -> old = 0; x = x | SLEEPING; break :: else -> x = old; old = 0 fi /* R:55-56 */
      :: else -> break
      od;
      do                                                                               /* 173: readersPresent again */
      :: i < NS -> d_step { present = CNT(SLOT[i]) != 0; i++ }; if :: present -> break :: else fi
      :: else -> break
      od;
      if
      :: present -> d_step { expected = x; x = 0; i = 0; present = false; q = Q_EXITS; claimed = true }; goto must_wait /* 174-175; drainClaimed keeps the claim (194) */
      :: else -> d_step { x = 0 }
      fi
    :: else
    fi;
    d_step { i = 0; present = false };
    PHASE = HOLDING;                                                                   /* 178 */
#ifdef COVER_BACKOFF
    writing++;
#endif
    /* 179: CONSISTENT, so OK; continueDrain clears the token (187) */
    d_step { assert(nwriters == 0 && nreaders == 0); nwriters++ };
    d_step { nwriters-- };
    /* rwlockWriteUnlock L:89-108 */
    d_step { w = STATE; assert((w & PID_MASK) == me); w = 0 };                         /* L:91-92 */
    d_step { assert(PHASE == HOLDING) };                                               /* L:93 */
    PHASE = DRAINING;                                                                  /* L:95 (L:94: record) */
    d_step { old = STATE; STATE = 0; if :: old & WAITERS -> pendingState++ :: else fi }; /* L:105 */
#ifdef COVER_BACKOFF
    writing--;
#endif
    if
    :: old & WAITERS -> d_step { futex_wake_all(Q_STATE); pendingState--; old = 0 }  /* L:106 */
    :: else
    fi;
    goto next;

must_wait:
    /* W:138-142: the deadline may have passed: rwlockLockCancel 248-256, TIMED_OUT */
    if
    :: claimed ->
      /* the cancel's loads (252-253) find its own claim DRAINING (asserted), so they are one
         step with abandon's swap (98-103; 99: the record, left out) */
      d_step { old = STATE; assert((old & PID_MASK) == me && PHASE == DRAINING); STATE = 0; if :: old & WAITERS -> pendingState++ :: else fi; expected = 0; q = 0; claimed = false }; /* 101 */
      if
      :: old & WAITERS -> d_step { futex_wake_all(Q_STATE); pendingState--; old = 0 }  /* 102 */
      :: else
      fi;
      goto next
    :: !claimed -> d_step { expected = 0; q = 0 }; goto next
    :: skip
    fi;
    if
    :: q == Q_STATE -> futex_wait(STATE, Q_STATE, expected)                            /* W:145 */
    :: q == Q_EXITS -> futex_wait(EXITS, Q_EXITS, expected)
    fi;
    d_step { expected = 0; res = 0; q = 0 };
    goto step;
next:
    skip
  :: else -> break
  od
}

active proctype monitor() {
end:
  do
  :: d_step { nwriters > 1 || nwriters > 0 && nreaders > 0 -> assert(false) }
#ifndef NO_WAKE_INVARIANT
  :: d_step { QUEUED_ON(Q_STATE) && (STATE & WAITERS) == 0 && pendingState == 0 -> assert(false) }
  :: d_step {
       QUEUED_ON(Q_EXITS) && pendingExits == 0 &&
       !((EXITS & SLEEPING) != 0 && (ANY_COUNT || ANY_LEAVING)) -> assert(false)
     }
#endif
  od
}

init {
  atomic {
    run Reader(1);
#if READERS > 1
    run Reader(2);
    run Writer(3)
#else
    run Writer(2);
    run Writer(3)
#endif
  }
}
