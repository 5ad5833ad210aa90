/*
 * wasm/queue.ts, wasm/queue_wait.ts: the bounded MPMC queue (Vyukov slots
 * with (seq, owner) words), with producers and consumers that die holding a
 * slot, recovery after a wait slice, and (option) pid reuse.
 *
 *   EPOS, DPOS            enqueuePos, dequeuePos (CAS, helped)
 *   SEQ[i], OWN[i]        slot i's u64 word: seq and owner pid, changed only
 *                         by CAS or store64, so here always together in one step
 *   OINC[i]               the owner's start time (an incarnation number); the
 *                         model keeps it with the word: see "start time" below
 *   LEN[i], PAY[i]        length (TOMBSTONE for a recovered slot), payload
 *   NE_EPOCH, NE_SL       notEmpty epoch (futex) and sleepers (consumers)
 *   NF_EPOCH, NF_SL       notFull epoch (futex) and sleepers (producers)
 *
 * SLOTS (2) slots; positions are small counters (no wrap). Pids: producers
 * 1 and 2, consumers 3 and 4. Each producer claims, fills and commits ITER
 * messages (producer p's k-th is 16 * incarnation + 4p + k); each consumer
 * takes, reads and releases messages until every producer is gone and every
 * committed message has been taken. Waits are the block loop of waiting.ts
 * over queueClaimStep / queueReadStep with spins = 0: parked at once, the
 * unparked first probe left out (it repeats the look). A wait slice may run
 * out at any moment; then the step recovers (recoverDeadReader /
 * recoverDeadWriter) before it looks again. Up to MAXDEATHS (1) processes die
 * while they hold a slot (WRITING or READING, anywhere from the CAS that took
 * it to the store64 that gives it up), or on the way to taking one. Every
 * atomic.* of the code is one step, every plain load/store its own step.
 * Comments give lines of commit e64d89b (Q: queue.ts, W: queue_wait.ts).
 *
 * Start time. The code compares only pids (W:328, W:341 processAlive(owner,
 * 0)); the core engineer is adding a start-time record per slot owner. The
 * fixed model compares pid + start, with the start known together with the
 * owner (as if part of the CAS'd word); where the core keeps it apart, the
 * windows between the CAS and writing the record (see README, mutex) are
 * not modelled here.
 *
 * Options (spin -D...):
 *   ITER=n       messages per producer (2)
 *   MAXDEATHS=n  deaths (1)
 *   PID_REUSE    a dead process's pid comes back as a new process (a new
 *                start time) in the same role, which goes on with the dead
 *                one's remaining work (its own new messages)
 *   NO_WAKE_INVARIANT  leave out the monitor's lost-wake-up invariants
 *   BROKEN_PLAIN_FREE  deliberately wrong: recoverDeadReader frees the dead
 *                reader's slot with a plain store64 after the liveness check,
 *                without first taking it by CAS from the word observed
 *   BROKEN_PLAIN_TOMBSTONE  deliberately wrong: recoverDeadWriter publishes
 *                the tombstone without first taking the slot by CAS
 *   BROKEN_PID_ONLY  the owner check compares pids only (as the code does
 *                at e64d89b); with PID_REUSE a slot of a dead owner whose pid
 *                lives again is never recovered: pan -DNP -l with
 *                STUCK_SLICES finds the queue wedged
 *   STUCK_SLICES a slice runs out only when nothing else can move (Promela
 *                timeout) instead of at any moment: for the non-progress
 *                check (pan -DNP -l), every cycle passes a delivery or a
 *                process's end
 *
 * Checked: no slot is held by two live processes (monitor); a consumer reads
 * only a committed message, whole (the payload published in that slot), and
 * no message twice; a live producer's commit and a live consumer's release
 * always find the slot theirs (no NOT_OWNER); at the end every committed
 * message was delivered or taken by a consumer that died holding it; no
 * invalid end state (positions never wedge: every wait ends); monitor: a
 * message ready at dequeuePos while every live consumer sleeps has a wake on
 * its way (and likewise a free slot at enqueuePos for sleeping producers).
 */

#define N 4
#define SLOTS 2
#ifndef PRODUCERS
#define PRODUCERS 2
#endif
#ifndef CONSUMERS
#define CONSUMERS 2
#endif
#ifndef ITER
#define ITER 2
#endif
#ifndef ITER2
#define ITER2 ITER
#endif
#ifndef MAXDEATHS
#define MAXDEATHS 1
#endif
#ifndef EARLY_SLICES
#define EARLY_SLICES 3
#endif
#define TOMBSTONE 255
#define ITERS (me == 1 -> ITER : ITER2)
#define MAXMSG 64

byte EPOS, DPOS;
byte SEQ[SLOTS], OWN[SLOTS], OINC[SLOTS];
byte LEN[SLOTS], PAY[SLOTS];
byte NE_EPOCH, NE_SL, NF_EPOCH, NF_SL;

bool queued[N + 1];
bool inflight[N + 1];
bool alive[N + 1];
byte incarnation[N + 1];
byte deaths;
byte holds[N + 1];    /* ghost: slot index + 1 a process holds (from its CAS to its store64) */
bool finished[N + 1];
byte producersGone;
byte committed, taken, delivered;
byte pubv[SLOTS];     /* ghost: the message published in each slot */
byte dcount[MAXMSG];  /* ghost: deliveries of each message */
bool comm[MAXMSG];    /* ghost: committed messages */
byte pendNE, pendNF;  /* wakers between their epoch bump (or store64) and their wake */

bool sliced[N + 1];   /* the clock ended this sleeper's slice */
#include "futex.pml"

#define SLOT(pos) ((pos) % SLOTS)

/* the owner (pid o, start oi) is alive: the fixed check compares start times too */
#ifdef BROKEN_PID_ONLY
#define OWNER_IS_ME(o, oi) ((o) == me)
#define OWNER_ALIVE(o, oi) alive[o]
#else
#define OWNER_IS_ME(o, oi) ((o) == me && (oi) == incarnation[me])
#define OWNER_ALIVE(o, oi) (alive[o] && incarnation[o] == (oi))
#endif

#define MAYBE_DIE \
  if \
  :: d_step { deaths < MAXDEATHS; alive[me] = false; deaths++; inflight[me] = false }; goto died \
  :: skip \
  fi


/* hostWait on an epoch with a slice: woken, not equal, or the slice ran out */
#ifdef STUCK_SLICES
#define EARLY_SLICE false
#else
#define EARLY_SLICE ((EARLY_SLICES & ROLE) != 0 && DEAD_HOLDER_AHEAD)
#endif
#define WAIT(word) \
  if \
  :: futex_wait(word, e) \
  :: EARLY_SLICE -> res = WAIT_TIMED_OUT \
  fi; \
  d_step { checkPeer = res == WAIT_TIMED_OUT || sliced[me]; sliced[me] = false; res = 0; e = 0 }

inline wake_consumer() {
  if
  :: queued[3] -> queued[3] = false; inflight[3] = true
  :: queued[4] -> queued[4] = false; inflight[4] = true
  :: else
  fi
}

inline wake_producer() {
  if
  :: queued[1] -> queued[1] = false; inflight[1] = true
  :: queued[2] -> queued[2] = false; inflight[2] = true
  :: else
  fi
}

/* A consumer is able to take a ready message: alive, awake, not finished. */
#define CAN_CONSUME(c) (alive[c] && !queued[c] && !finished[c])
#define CAN_PRODUCE(p) (alive[p] && !queued[p] && !finished[p])
#define READY_AT_DPOS (SEQ[SLOT(DPOS)] == DPOS + 1 && OWN[SLOT(DPOS)] == 0)
#define FREE_AT_EPOS (SEQ[SLOT(EPOS)] == EPOS && OWN[SLOT(EPOS)] == 0)

/* publish, Q:187-196: length, then store64(seq + 1, 0), then the notEmpty wake */
#define PUBLISH(ln, v) \
  LEN[i] = ln; \
  s = SEQ[i]; \
  d_step { \
    SEQ[i] = s + 1; OWN[i] = 0; OINC[i] = 0; pubv[i] = v; \
    if :: holds[me] == i + 1 -> holds[me] = 0 :: else fi; \
    if :: ln != TOMBSTONE -> committed++; comm[v] = true :: else fi; \
    pendNE++; s = 0 \
  }; \
  MAYBE_DIE; \
  if \
  :: NE_SL != 0 -> \
    NE_EPOCH++; \
    atomic { wake_consumer(); pendNE-- } \
  :: else -> pendNE-- \
  fi

/* free, Q:227-234: store64(seq - 1 + slots, 0), then the notFull wake */
#define FREE(sq) \
  d_step { \
    SEQ[i] = sq - 1 + SLOTS; OWN[i] = 0; OINC[i] = 0; LEN[i] = 0; PAY[i] = 0; pubv[i] = 0; \
    if :: holds[me] == i + 1 -> holds[me] = 0 :: else fi; \
    pendNF++ \
  }; \
  if \
  :: NF_SL != 0 -> \
    NF_EPOCH++; \
    atomic { wake_producer(); pendNF-- } \
  :: else -> pendNF-- \
  fi

/*
 * A slice may run out at any moment only while there is something to
 * recover where this waiter looks (a slot held by a dead process at its
 * position: ghost knowledge that only steers the schedule); otherwise only
 * when nothing else can move. Spurious wake-ups are not explored here.
 */
#define TRULY_DEAD(j) (OWN[j] != 0 && !(alive[OWN[j]] && incarnation[OWN[j]] == OINC[j]))
#define ROLE 1
#define DEAD_HOLDER_AHEAD (SEQ[SLOT(EPOS)] + SLOTS == EPOS + 1 && TRULY_DEAD(SLOT(EPOS)))
proctype Producer(byte me) {
  byte k, m, pos, i, s, o, oi, e, res;
  bool ok, registered, checkPeer;

restart:
  do
  :: d_step { k < ITERS -> k++; m = 16 * incarnation[me] + 4 * me + k; checkPeer = false }
step:
    /* queueClaimStep, W:347-368 */
    if
    :: d_step { registered -> NF_SL--; registered = false }                           /* W:349 */
    :: else
    fi;
claim:
    skip;
    /* queueClaim, Q:142-166 */
    d_step { pos = EPOS; inflight[me] = false };                                      /* Q:147 */
    d_step { i = SLOT(pos); s = SEQ[i]; o = OWN[i]; oi = OINC[i] };                   /* Q:150 */
    if
    :: d_step {                                                                       /* Q:154-155 */
        s == pos && o == 0 ->
        ok = SEQ[i] == s && OWN[i] == 0;
        if :: ok -> OWN[i] = me; OINC[i] = incarnation[me]; holds[me] = i + 1 :: else fi;
        s = 0; o = 0; oi = 0
      };
      if
      :: !ok -> goto claim
      :: else -> ok = false
      fi;
      MAYBE_DIE;
      d_step { if :: EPOS == pos -> EPOS = pos + 1 :: else fi; pos = 0 };             /* Q:156 */
      goto fill
    :: d_step { s < pos -> s = 0; o = 0; oi = 0 }                                     /* Q:159-162 FULL */
    :: d_step {                                                                       /* Q:164 help */
        s > pos || s == pos && o != 0 ->
        if :: EPOS == pos -> EPOS = pos + 1 :: else fi; s = 0; o = 0; oi = 0
      };
      goto claim
    fi;
    if
    :: checkPeer ->                                                                   /* W:352-356 */
      /* recoverDeadReader, W:335-344 */
      d_step { pos = EPOS; checkPeer = false };                                       /* W:336 */
      d_step {                                                                        /* W:338, 341 */
        i = SLOT(pos); s = SEQ[i]; o = OWN[i]; oi = OINC[i];
        ok = s + SLOTS == pos + 1 && o != 0 && !OWNER_IS_ME(o, oi); pos = 0
      };
      if
      :: ok -> d_step { ok = !OWNER_ALIVE(o, oi) }                                    /* W:341 processAlive */
      :: else
      fi;
      if
      :: ok ->
#ifdef BROKEN_PLAIN_FREE
        ok = false;
#else
        d_step {                                                                      /* W:342 */
          ok = SEQ[i] == s && OWN[i] == o && OINC[i] == oi;
          if :: ok -> OWN[i] = me; OINC[i] = incarnation[me]; holds[me] = i + 1 :: else fi;
          o = 0; oi = 0
        };
        if :: !ok -> s = 0; goto claim :: else -> ok = false fi;
#endif
        FREE(s)                                                                       /* W:343 */
      :: else
      fi;
      d_step { s = 0; o = 0; oi = 0; i = 0 };
      goto claim                                                                      /* W:354 */
    :: else
    fi;
    if
    :: !registered ->                                                                 /* W:357-366 */
      d_step { NF_SL++; registered = true };                                          /* W:358 */
      e = NF_EPOCH;                                                                   /* W:359 */
      goto claim                                                                      /* W:360 */
    :: else
    fi;
    WAIT(NF_EPOCH);                                                                   /* waiting.ts 145 */
    goto step;

fill:
    if
    :: d_step { registered -> NF_SL--; registered = false }                           /* W:362 */
    :: else
    fi;
    PAY[i] = m;                             /* the caller writes the payload in place */
    MAYBE_DIE;
    /* queueCommit, Q:203-213: claimedSlot, Q:177-185 */
    d_step { assert(OWN[i] == me && OINC[i] == incarnation[me] && SEQ[i] % SLOTS == i) }; /* Q:181-183 NOT_OWNER */
progress_commit:
    skip;
    PUBLISH(1, m);
    d_step { i = 0; m = 0 }
  :: else -> break
  od;
  skip;
  d_step { finished[me] = true; producersGone++ };
  goto done;
died:
  skip;
  d_step {
    m = 0; pos = 0; i = 0; s = 0; o = 0; oi = 0; e = 0; res = 0;
    ok = false; registered = false; checkPeer = false
  };
#ifdef PID_REUSE
  if
  :: d_step { alive[me] = true; incarnation[me]++; holds[me] = 0 }; goto restart
  :: skip
  fi;
#endif
  d_step { finished[me] = true; producersGone++ };
done:
  skip
}

#undef ROLE
#undef DEAD_HOLDER_AHEAD
#define ROLE 2
#define DEAD_HOLDER_AHEAD (SEQ[SLOT(DPOS)] == DPOS && TRULY_DEAD(SLOT(DPOS)))
proctype Consumer(byte me) {
  byte pos, i, s, o, oi, e, res, ln, v;
  bool ok, registered, checkPeer, last;

restart:
  do
  :: true ->
    checkPeer = false;
step:
    /* queueReadStep, W:371-392 */
    if
    :: d_step { registered -> NE_SL--; registered = false }                           /* W:373 */
    :: else
    fi;
read:
    skip;
    /* queueRead, Q:241-276; last (ghost): nothing more will come */
    d_step { pos = DPOS; inflight[me] = false; last = producersGone == PRODUCERS && taken == committed }; /* Q:246 */
    d_step { i = SLOT(pos); s = SEQ[i]; o = OWN[i]; oi = OINC[i] };                   /* Q:248 */
    if
    :: d_step {                                                                       /* Q:251-253 */
        s == pos + 1 && o == 0 ->
        ok = SEQ[i] == s && OWN[i] == 0;
        if
        :: ok -> OWN[i] = me; OINC[i] = incarnation[me]; holds[me] = i + 1;
          if :: pubv[i] != 0 -> taken++ :: else fi     /* ghost: a message, not a tombstone */
        :: else
        fi;
        o = 0; oi = 0
      };
      if
      :: !ok -> s = 0; goto read
      :: else -> ok = false
      fi;
      MAYBE_DIE;
      d_step { if :: DPOS == pos -> DPOS = pos + 1 :: else fi; pos = 0 };             /* Q:254 */
      ln = LEN[i];                                                                    /* Q:255 */
      if
      :: ln == TOMBSTONE -> ln = 0; FREE(s); d_step { s = 0; i = 0 }; goto read       /* Q:256-258 */
      :: else
      fi;
      goto got
    :: d_step { s < pos + 1 -> s = 0; o = 0; oi = 0 }                                 /* Q:270-272 EMPTY */
    :: d_step {                                                                       /* Q:274 help */
        s > pos + 1 || s == pos + 1 && o != 0 ->
        if :: DPOS == pos -> DPOS = pos + 1 :: else fi; s = 0; o = 0; oi = 0
      };
      goto read
    fi;
    if
    :: last -> goto stop
    :: else
    fi;
    if
    :: checkPeer ->                                                                   /* W:376-380 */
      /* recoverDeadWriter, W:323-332 */
      d_step { pos = DPOS; checkPeer = false };                                       /* W:324 */
      d_step {                                                                        /* W:326, 328 */
        i = SLOT(pos); s = SEQ[i]; o = OWN[i]; oi = OINC[i];
        ok = s == pos && o != 0 && !OWNER_IS_ME(o, oi); pos = 0
      };
      if
      :: ok -> d_step { ok = !OWNER_ALIVE(o, oi) }                                    /* W:328 processAlive */
      :: else
      fi;
      if
      :: ok ->
#ifdef BROKEN_PLAIN_TOMBSTONE
        ok = false;
#else
        d_step {                                                                      /* W:330 */
          ok = SEQ[i] == s && OWN[i] == o && OINC[i] == oi;
          if :: ok -> OWN[i] = me; OINC[i] = incarnation[me]; holds[me] = i + 1 :: else fi;
          o = 0; oi = 0
        };
        if :: !ok -> s = 0; goto read :: else -> ok = false fi;
#endif
        s = 0;
        PUBLISH(TOMBSTONE, 0)                                                         /* W:331 */
      :: else
      fi;
      d_step { s = 0; o = 0; oi = 0; i = 0 };
      goto read                                                                       /* W:378 */
    :: else
    fi;
    if
    :: !registered ->                                                                 /* W:381-390 */
      d_step { NE_SL++; registered = true };                                          /* W:382 */
      e = NE_EPOCH;                                                                   /* W:383 */
      goto read                                                                       /* W:384 */
    :: else
    fi;
    WAIT(NE_EPOCH);
    goto step;

got:
    if
    :: d_step { registered -> NE_SL--; registered = false }                           /* W:386 */
    :: else
    fi;
    v = PAY[i];                             /* the caller reads the payload in place */
    d_step { assert(ln == 1 && v == pubv[i] && comm[v] && dcount[v] == 0); ln = 0 };
    MAYBE_DIE;
    /* queueRelease, Q:297-306: readingSlot (Q:291) and free's load of seq (Q:304) */
    d_step { s = SEQ[i]; assert(OWN[i] == me && OINC[i] == incarnation[me] && (s - 1) % SLOTS == i) };
progress_delivered:
    skip;
    d_step { dcount[v]++; delivered++; v = 0 };
    FREE(s);
    d_step { s = 0; i = 0 }
  od;
stop:
  skip;
  d_step {
    if :: registered -> NE_SL-- :: else fi;
    finished[me] = true;
    pos = 0; i = 0; s = 0; o = 0; oi = 0; e = 0; res = 0; ln = 0; v = 0;
    ok = false; registered = false; checkPeer = false; last = false
  };
  goto done;
died:
  skip;
  d_step {
    pos = 0; i = 0; s = 0; o = 0; oi = 0; e = 0; res = 0; ln = 0; v = 0;
    ok = false; registered = false; checkPeer = false; last = false
  };
#ifdef PID_REUSE
  if
  :: d_step { alive[me] = true; incarnation[me]++; holds[me] = 0 }; goto restart
  :: skip
  fi;
#endif
  d_step { finished[me] = true };
done:
  skip
}

#define HELD_BY_TWO(p, q) (holds[p] != 0 && holds[p] == holds[q] && alive[p] && alive[q])
#define DOUBLE_HOLD (HELD_BY_TWO(1, 2) || HELD_BY_TWO(1, 3) || HELD_BY_TWO(1, 4) || \
                     HELD_BY_TWO(2, 3) || HELD_BY_TWO(2, 4) || HELD_BY_TWO(3, 4))
/* a message is ready, every live consumer sleeps, and no wake is on its way */
#define READY_UNSEEN (READY_AT_DPOS && !CAN_CONSUME(3) && !CAN_CONSUME(4) && pendNE == 0 && \
                      (alive[3] && queued[3] || alive[4] && queued[4]))
#define FREE_UNSEEN (FREE_AT_EPOS && !CAN_PRODUCE(1) && !CAN_PRODUCE(2) && pendNF == 0 && \
                     (alive[1] && queued[1] || alive[2] && queued[2]))

active proctype monitor() {
end:
  do
  :: d_step { DOUBLE_HOLD -> assert(!DOUBLE_HOLD) }
#ifndef NO_WAKE_INVARIANT
  :: d_step { READY_UNSEEN -> assert(!READY_UNSEEN) }
  :: d_step { FREE_UNSEEN -> assert(!FREE_UNSEEN) }
#endif
  od
}

/*
 * Time passing, the last resort: once nothing else can move, every
 * sleeper's slice (livenessPollMs) runs out at once, so no sleeper's slice
 * is put off for ever while another's keeps running out.
 */
active proctype clock() {
end:
  do
  :: atomic {
      timeout && (queued[1] || queued[2] || queued[3] || queued[4]) ->
      if :: queued[1] -> queued[1] = false; sliced[1] = true :: else fi;
      if :: queued[2] -> queued[2] = false; sliced[2] = true :: else fi;
      if :: queued[3] -> queued[3] = false; sliced[3] = true :: else fi;
      if :: queued[4] -> queued[4] = false; sliced[4] = true :: else fi
    }
  od
}

/* At the end: every committed message was delivered, or taken by a consumer that died with it. */
active proctype final() {
  atomic {
    finished[1] && finished[2] && finished[3] && finished[4] ->
    assert(committed == taken || !alive[3] && !alive[4]);   /* unless no consumer is left */
    assert(taken == delivered || deaths > 0 && taken == delivered + 1)
  }
}

init {
  atomic {
    byte j;
    j = 0;
    do
    :: j < SLOTS -> SEQ[j] = j; j++
    :: else -> break
    od;
    alive[1] = true; alive[2] = true; alive[3] = true; alive[4] = true;
    incarnation[1] = 1; incarnation[2] = 1; incarnation[3] = 1; incarnation[4] = 1;
#ifdef DEAD_READER_AT_START
    /* the queue is full: consumer 3 took position 0 (message 60) and died holding it; position 1 holds message 61 */
    SEQ[0] = 1; OWN[0] = 3; OINC[0] = 1; LEN[0] = 1; PAY[0] = 60; pubv[0] = 60; comm[60] = true;
    SEQ[1] = 2; LEN[1] = 1; PAY[1] = 61; pubv[1] = 61; comm[61] = true;
    committed = 2; taken = 1; EPOS = 2; DPOS = 1; holds[3] = 1;
    alive[3] = false; finished[3] = true; deaths = 1;
#endif
    run Producer(1);
#if PRODUCERS > 1
    run Producer(2);
#else
    alive[2] = false; finished[2] = true;
#endif
#ifndef DEAD_READER_AT_START
    run Consumer(3);
#endif
#if CONSUMERS > 1
    run Consumer(4)
#else
    alive[4] = false; finished[4] = true
#endif
  }
}
