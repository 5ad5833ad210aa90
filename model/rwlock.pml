/*
 * wasm/rwlock.ts + rwlock_readers.ts, the reader-writer lock, with 3 live
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
 * Comments give line numbers: rwlock.ts (plain), rwlock_readers.ts (R:).
 * Two futex words, so the futex of futex.pml (same semantics: check and
 * queue in one step, wake takes queued sleepers off) is written here per word.
 *
 * Left out, because nothing can read a difference without deaths:
 * CONSISTENCY (always CONSISTENT: only takers of a dead writer's lock and
 * unrepaired releases change it), so its loads (R:210, 345, 408, 501, 587)
 * are not steps; the holder record (HOLDER_START, HOLDER_RECORD_PID) and the
 * slots' start times, read only by holderAlive / reapDead; slotCount (a
 * constant). checkHolder (after a sleep that ran its slice, SPURIOUS) only
 * adds loads then: every holder and slot owner is alive, so holderAlive is
 * true and reapDead frees nothing.
 *
 * A reader does ITER times rwlockRead (tryRead, one spin round, then the
 * rwlockReadStep / hostWait loop), reads, rwlockReadUnlock. A writer does
 * ITER times rwlockWrite (the rwlockWriteStep / rwlockDrainStep / hostWait
 * loop), writes, rwlockWriteUnlock. Both may give up after a MUST_WAIT (a
 * finite timeoutMs; a claimed writer then abandons).
 *
 * Options (spin -D...):
 *   READERS=2     2 readers + 1 writer (default); READERS=1: 1 reader + 2 writers
 *   SPURIOUS      futex waits also end spuriously or by their slice at any time
 *   BROKEN_NO_RECHECK  deliberately wrong: confirmReader (R:214-220) does not
 *                 re-read `state` after counting up, so a writer that claimed
 *                 between the reader's first look and its count goes unseen
 *   BROKEN_EXITS_FIRST  deliberately wrong: leaveSlot reads `exits` before
 *                 counting down instead of after (R:188-196), so a writer that
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
#ifndef SPINS
#define SPINS 1
#endif

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
 * leaveSlot R:187-205 on slot idx: count down, then read EXITS and, if
 * SLEEPING, bump the sequence (clearing SLEEPING) and wake all there.
 */
inline leave_slot() {
#ifdef BROKEN_EXITS_FIRST
  x = EXITS;                                                                           /* wrong: before the count-down */
#endif
  w = SLOT[idx];                                                                       /* R:188 */
  do
  :: SPID(w) == me && CNT(w) != 0 ->                                                   /* R:189 */
    d_step {                                                                           /* R:190 */
      old = SLOT[idx];
      if :: old == w -> SLOT[idx] = w - 1; leaving[me] = true :: else fi
    };
    if :: old == w -> break :: else -> w = old fi                                     /* R:191-192 */
  :: else -> break
  od;
#ifdef BROKEN_EXITS_FIRST
  atomic { if :: (x & SLEEPING) == 0 -> leaving[me] = false :: else fi };
#else
  atomic { x = EXITS; if :: (x & SLEEPING) == 0 -> leaving[me] = false :: else fi };   /* R:196 */
#endif
  do
  :: (x & SLEEPING) != 0 ->                                                            /* R:197 */
    d_step {                                                                           /* R:198 */
      old = EXITS;
      if
      :: old == x -> EXITS = (x + 1) & SEQ_MASK; pendingExits++; leaving[me] = false
      :: else -> if :: (old & SLEEPING) == 0 -> leaving[me] = false :: else fi
      fi
    };
    if
    :: old == x -> d_step { futex_wake_all(Q_EXITS); pendingExits-- }; break         /* R:199-201 */
    :: else -> x = old                                                                 /* R:203 */
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
    ph = 1;                                   /* 550: rwlockTryRead (495-512) */
enter:
    /* readEnter R:228-262 (slotCount R:229-230: a constant) */
    atomic {                                                                           /* R:231, R:210 */
      open = STATE == 0;
#ifdef COVER_BACKOFF
      seenClaims = claims
#endif
    };
    if :: !open -> d_step { w = STATE; w = 0 } :: else fi;                             /* R:232, never NR */
    d_step { i = 0; idx = me % NS; free = NONE };
scan:
    if
    :: i < NS ->                                                                       /* R:237 */
      w = SLOT[idx];                                                                   /* R:239 */
incr:
      if
      :: SPID(w) == me && !(CNT(w) == 0 && !open) ->                                   /* R:240-242 */
        d_step {                                                                       /* R:244 */
          old = SLOT[idx];
          if :: old == w -> SLOT[idx] = w + 1 :: else fi
        };
        if
        :: old == w && CNT(w) == 0 -> goto confirm                                     /* R:245 */
        :: old == w && CNT(w) != 0 -> st = 0; goto entered
        :: else -> w = old; old = 0; goto incr                                         /* R:246 */
        fi
      :: else
      fi;
      d_step {                                                                         /* R:248-253 */
        if :: w == 0 && free == NONE -> free = idx :: else fi;
        w = 0; i++; idx = (idx + 1) % NS
      };
      goto scan
    :: else
    fi;
    if
    :: !open -> d_step { i = 0; idx = 0; free = NONE }; goto would_block               /* R:255 */
    :: else
    fi;
    /* one slot per reader: there is always a free one, so freeSlot (R:257) and NO_SLOT (R:258) are unreachable */
    assert(free != NONE);
    d_step { idx = free; free = NONE; i = 0 };
    d_step {                                                                           /* R:259 */
      old = SLOT[idx];
      if :: old == 0 -> SLOT[idx] = me * 16 + 1 :: else fi
    };
    if :: old != 0 -> d_step { old = 0; idx = 0 }; goto enter :: else fi               /* RETRY */
    /* R:260: the start time store, read only by reapDead: left out */
confirm:
    /* confirmReader R:214-220 */
#ifndef BROKEN_NO_RECHECK
    atomic { open = STATE == 0 };                                                      /* R:217, R:210 */
    if
    :: !open ->
#ifdef COVER_BACKOFF
      /* a writer claimed after this reader's first look (R:231) and is still draining */
      atomic { coverBackoff = claims != seenClaims && STATE != 0 && PHASE == DRAINING && writing == 0; assert(!coverBackoff) };
#endif
      leave_slot(); d_step { idx = 0; i = 0; free = NONE }; goto would_block                        /* R:218-219 */
    :: else
    fi;
#endif
    atomic { idx = 0; i = 0; old = 0; w = 0; free = NONE };
    st = 0;
entered:
    /* OK: reading */
    atomic { assert(nwriters == 0); nreaders++; st = 0; open = false; ph = 0 };
    d_step { nreaders-- };
    /* rwlockReadUnlock 564-577 */
    d_step { i = 0; idx = me % NS };
    do
    :: i < NS ->
      w = SLOT[idx];                                                                   /* 570 */
      if
      :: SPID(w) == me && CNT(w) != 0 -> break                                         /* 571 */
      :: else -> d_step { w = 0; i++; idx = (idx + 1) % NS }
      fi
    :: else -> assert(false)                                                           /* NOT_OWNER: never */
    od;
    leave_slot();                                                                      /* 572 */
    d_step { i = 0; idx = 0 };
    goto next;

would_block:
    open = false;
    if
    :: ph == 1 ->
      /* tryRead returns WOULD_BLOCK (501: CONSISTENCY is CONSISTENT); lockBlocking 516-524 */
#if SPINS > 0
      d_step { open = STATE == 0 };                                                    /* 519 */
      if :: open -> open = false; ph = 2; goto enter :: else -> ph = 3; goto enter fi  /* 520 */
#else
      ph = 3; goto enter
#endif
    :: ph == 2 -> ph = 3; goto enter                                                   /* 521, then 531 */
    :: ph == 3 ->
      /* rwlockReadStep 439-443: claim(reader) 340-387 */
      w = STATE;                                                                       /* 341 */
rclaim:
      atomic {
        if
        :: w == 0 -> goto enter                                                        /* 344-345: RETRY, 441 */
        :: else
        fi
      };
      atomic {
        if
        :: (w & WAITERS) == 0 ->                                                       /* 377-378 */
          old = STATE;
          if :: old == w -> STATE = w | WAITERS :: else fi;
          if :: old != w -> w = old; old = 0; goto rclaim :: else -> old = 0 fi        /* 379-381 */
        :: else
        fi;
        expected = w | WAITERS; w = 0                                                  /* 384 */
      };
      if
      :: d_step { expected = 0; ph = 0 }; goto next                                    /* 537-540: TIMED_OUT */
      :: skip
      fi;
      futex_wait(STATE, Q_STATE, expected);                                            /* 544 */
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
    if :: claimed -> goto drain :: else fi;                                            /* 529-531 */
    /* rwlockWriteStep 448-454: claim(writer) 340-387 */
    w = STATE;                                                                         /* 341 */
claim_loop:
    atomic {
      if
      :: w == 0 ->                                                                     /* 344-352 */
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
      :: (w & WAITERS) == 0 ->                                                         /* 377-383 */
        old = STATE;
        if :: old == w -> STATE = w | WAITERS :: else fi;
        if :: old != w -> w = old; old = 0; goto claim_loop :: else -> old = 0 fi
      :: else
      fi;
      expected = w | WAITERS; w = 0; q = Q_STATE                                       /* 384 */
    };
    goto must_wait;

record:
    /* recordHolder 317-325: the record stores are left out (read only by holderAlive) */
    PHASE = DRAINING;                                                                  /* 324 */
drain:
    /* drain 390-409 */
    atomic { claimed = false; i = 0; present = false };
    do                                                                                 /* 396: readersPresent R:168-173 */
    :: i < NS -> d_step { present = CNT(SLOT[i]) != 0; i++ }; if :: present -> break :: else fi
    :: else -> break
    od;
    if
    :: present ->
      /* armExits R:176-184 */
      d_step { i = 0; present = false };
      x = EXITS;                                                                       /* R:177 */
      do
      :: (x & SLEEPING) == 0 ->                                                        /* R:178 */
        d_step {                                                                       /* R:179 */
          old = EXITS;
          if :: old == x -> EXITS = x | SLEEPING :: else fi
        };
        if :: old == x -> old = 0; x = x | SLEEPING; break :: else -> x = old; old = 0 fi /* R:180-181 */
      :: else -> break
      od;
      do                                                                               /* 401: readersPresent again */
      :: i < NS -> d_step { present = CNT(SLOT[i]) != 0; i++ }; if :: present -> break :: else fi
      :: else -> break
      od;
      if
      :: present -> d_step { expected = x; x = 0; i = 0; present = false; q = Q_EXITS; claimed = true }; goto must_wait /* 402-404 */
      :: else -> d_step { x = 0 }
      fi
    :: else
    fi;
    d_step { i = 0; present = false };
    PHASE = HOLDING;                                                                   /* 407 */
#ifdef COVER_BACKOFF
    writing++;
#endif
    /* 408: CONSISTENT, so OK */
    d_step { assert(nwriters == 0 && nreaders == 0); nwriters++ };
    d_step { nwriters-- };
    /* rwlockWriteUnlock 580-599 */
    d_step { w = STATE; assert((w & PID_MASK) == me); w = 0 };                         /* 582-583 */
    d_step { assert(PHASE == HOLDING) };                                               /* 584 */
    PHASE = DRAINING;                                                                  /* 586 (585: record) */
    d_step { old = STATE; STATE = 0; if :: old & WAITERS -> pendingState++ :: else fi }; /* 596 */
#ifdef COVER_BACKOFF
    writing--;
#endif
    if
    :: old & WAITERS -> d_step { futex_wake_all(Q_STATE); pendingState--; old = 0 }  /* 597 */
    :: else
    fi;
    goto next;

must_wait:
    /* lockBlocking 532-544 */
    if
    :: claimed ->                                                                      /* 537-540: give up */
      d_step { old = STATE; assert((old & PID_MASK) == me); STATE = 0; if :: old & WAITERS -> pendingState++ :: else fi; expected = 0; q = 0; claimed = false }; /* abandon 331 */
      if
      :: old & WAITERS -> d_step { futex_wake_all(Q_STATE); pendingState--; old = 0 }  /* 332 */
      :: else
      fi;
      goto next
    :: !claimed -> d_step { expected = 0; q = 0 }; goto next
    :: skip
    fi;
    if
    :: q == Q_STATE -> futex_wait(STATE, Q_STATE, expected)                            /* 544 */
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
