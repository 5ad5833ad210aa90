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
 * unrepaired releases change it), so its loads (R:85, 72, 135, 228, 314)
 * are not steps; the holder record (HOLDER_START, HOLDER_RECORD_PID) and the
 * slots' start times, read only by recordedHolderAlive / reapDead; slotCount (a
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
    ph = 1;                                   /* 277: rwlockTryRead (222-239) */
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
    /* rwlockReadUnlock 291-304 */
    d_step { i = 0; idx = me % NS };
    do
    :: i < NS ->
      w = SLOT[idx];                                                                   /* 297 */
      if
      :: SPID(w) == me && CNT(w) != 0 -> break                                         /* 298 */
      :: else -> d_step { w = 0; i++; idx = (idx + 1) % NS }
      fi
    :: else -> assert(false)                                                           /* NOT_OWNER: never */
    od;
    leave_slot();                                                                      /* 299 */
    d_step { i = 0; idx = 0 };
    goto next;

would_block:
    open = false;
    if
    :: ph == 1 ->
      /* tryRead returns WOULD_BLOCK (228: CONSISTENCY is CONSISTENT); lockBlocking 243-251 */
#if SPINS > 0
      d_step { open = STATE == 0 };                                                    /* 246 */
      if :: open -> open = false; ph = 2; goto enter :: else -> ph = 3; goto enter fi  /* 247 */
#else
      ph = 3; goto enter
#endif
    :: ph == 2 -> ph = 3; goto enter                                                   /* 248, then 258 */
    :: ph == 3 ->
      /* rwlockReadStep 166-170: claim(reader) 67-114 */
      w = STATE;                                                                       /* 68 */
rclaim:
      atomic {
        if
        :: w == 0 -> goto enter                                                        /* 71-72: RETRY, 168 */
        :: else
        fi
      };
      atomic {
        if
        :: (w & WAITERS) == 0 ->                                                       /* 104-105 */
          old = STATE;
          if :: old == w -> STATE = w | WAITERS :: else fi;
          if :: old != w -> w = old; old = 0; goto rclaim :: else -> old = 0 fi        /* 106-108 */
        :: else
        fi;
        expected = w | WAITERS; w = 0                                                  /* 111 */
      };
      if
      :: d_step { expected = 0; ph = 0 }; goto next                                    /* 264-267: TIMED_OUT */
      :: skip
      fi;
      futex_wait(STATE, Q_STATE, expected);                                            /* 271 */
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
    if :: claimed -> goto drain :: else fi;                                            /* 256-258 */
    /* rwlockWriteStep 175-181: claim(writer) 67-114 */
    w = STATE;                                                                         /* 68 */
claim_loop:
    atomic {
      if
      :: w == 0 ->                                                                     /* 71-79 */
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
      :: (w & WAITERS) == 0 ->                                                         /* 104-110 */
        old = STATE;
        if :: old == w -> STATE = w | WAITERS :: else fi;
        if :: old != w -> w = old; old = 0; goto claim_loop :: else -> old = 0 fi
      :: else
      fi;
      expected = w | WAITERS; w = 0; q = Q_STATE                                       /* 111 */
    };
    goto must_wait;

record:
    /* recordHolder 46-52: the record stores are left out (read only by recordedHolderAlive) */
    PHASE = DRAINING;                                                                  /* 51 */
drain:
    /* drain 117-136 */
    atomic { claimed = false; i = 0; present = false };
    do                                                                                 /* 123: readersPresent R:43-48 */
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
      do                                                                               /* 128: readersPresent again */
      :: i < NS -> d_step { present = CNT(SLOT[i]) != 0; i++ }; if :: present -> break :: else fi
      :: else -> break
      od;
      if
      :: present -> d_step { expected = x; x = 0; i = 0; present = false; q = Q_EXITS; claimed = true }; goto must_wait /* 129-131 */
      :: else -> d_step { x = 0 }
      fi
    :: else
    fi;
    d_step { i = 0; present = false };
    PHASE = HOLDING;                                                                   /* 134 */
#ifdef COVER_BACKOFF
    writing++;
#endif
    /* 135: CONSISTENT, so OK */
    d_step { assert(nwriters == 0 && nreaders == 0); nwriters++ };
    d_step { nwriters-- };
    /* rwlockWriteUnlock 307-326 */
    d_step { w = STATE; assert((w & PID_MASK) == me); w = 0 };                         /* 309-310 */
    d_step { assert(PHASE == HOLDING) };                                               /* 311 */
    PHASE = DRAINING;                                                                  /* 313 (312: record) */
    d_step { old = STATE; STATE = 0; if :: old & WAITERS -> pendingState++ :: else fi }; /* 323 */
#ifdef COVER_BACKOFF
    writing--;
#endif
    if
    :: old & WAITERS -> d_step { futex_wake_all(Q_STATE); pendingState--; old = 0 }  /* 324 */
    :: else
    fi;
    goto next;

must_wait:
    /* lockBlocking 259-271 */
    if
    :: claimed ->                                                                      /* 264-267: give up */
      d_step { old = STATE; assert((old & PID_MASK) == me); STATE = 0; if :: old & WAITERS -> pendingState++ :: else fi; expected = 0; q = 0; claimed = false }; /* abandon 58 */
      if
      :: old & WAITERS -> d_step { futex_wake_all(Q_STATE); pendingState--; old = 0 }  /* 59 */
      :: else
      fi;
      goto next
    :: !claimed -> d_step { expected = 0; q = 0 }; goto next
    :: skip
    fi;
    if
    :: q == Q_STATE -> futex_wait(STATE, Q_STATE, expected)                            /* 271 */
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
