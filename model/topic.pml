/*
 * wasm/topic/layout.ts, publisher.ts, subscriber.ts: the topic's publish /
 * lap / reap protocol (commit 22a1ee1), one publisher and two subscribers,
 * depth 2, with subscriber death and reaping, a late subscriber attaching,
 * publisher death mid-write and a successor's takeover.
 *
 *   PPID                  PUB_PID, the publisher role (claimRole, W:163)
 *   HEAD, HEADWORD        HEAD (u64) and HEAD_WORD (the subscribers' futex)
 *   MINCACHE, EPOCH_SEEN, LOANED   the publisher line's plain words
 *   SUBSL, PUBSL, EPOCH   SUB_SLEEPERS, PUB_SLEEPERS, EPOCH
 *   SPID[r], CURSOR[r]    record r's SUB_PID and CURSOR (the publisher's
 *                         futex when it waits on r); CURSOR_NONE is 255
 *   READEND[r], MISSED[r], RECEIVED[r], DEADSEEN[r]   the record's plain
 *                         words, written only by its holder
 *   STAMP[i], LEN[i], PAY[i]  slot i: stamp (seq + 1, 0 while written), the
 *                         LENGTH word and the payload
 *
 * The message of seq s lives in slot s % 2. Its LENGTH word (written by
 * topicPublish) and its payload (written by the caller between loan and
 * publish) both carry s, so a copy whose two words are not both s is torn.
 *
 * Pids: publisher 1, attached at the start; with PUB_DEATH it may die
 * anywhere from its first loan to its last wake, and publisher 2 (the
 * successor) starts once the role's holder is dead, takes it with claimRole
 * and topicPublisherAttach (head recomputed from the stamps) and publishes
 * the rest. Together they publish MSGS messages, seqs 0 .. MSGS - 1.
 * Subscriber 3 holds record 0 at the start (cursor 0); subscriber 4 attaches
 * at any moment (topicSubscriberAttach: record 0 if its holder is dead, else
 * record 1) with HISTORY messages back. Each reads (topicReadWait) and
 * releases (topicRelease) until it has read up to MSGS, then detaches; with
 * HOLD=2 it may read a second message before it releases both. After each
 * read it copies the payload (the caller's read in place): a step that may
 * interleave with the publisher overwriting the slot. With SUB_DEATH
 * subscriber 3 may die anywhere. Waits are block() (W) with spins = 0:
 * parked at once (block's unflagged first probe left out: it repeats the
 * look). Every atomic.* of the code is one step, every plain load or store
 * its own step, except where marked "holder-private": a load and store of a
 * record counter only its holder touches. Line numbers: L: layout.ts, P:
 * publisher.ts, S: subscriber.ts, W: base/waiting.ts, C: base/context.ts.
 *
 * Left out: the record pids and start times (recordedHolderAlive is one
 * step reading alive[]: no pid reuse here), the loan's length and type
 * words, PUBLISHED, the geometry checks (topicGeometry: valid here), the
 * spin phases of block(), fullFence (a no-op under the sequentially
 * consistent interleaving, which is what wasm's atomics give; the plain
 * accesses it orders are the payload copy and the stamp re-check, each its
 * own step here, so their order is the code's), LAP_ROUNDS (depth 2 and a
 * few messages never need 16 rounds), publisher detach, topicAbort, the
 * async paths.
 *
 * Options (spin -D...):
 *   OVERWRITE    the OVERWRITE policy (default BLOCK)
 *   MSGS=n       messages published (3)
 *   HISTORY=n    history of a late subscriber (2 = depth)
 *   HOLD=n       messages a subscriber may hold before it releases (1)
 *   LATE_READS=n messages subscriber 4 reads before it detaches (1)
 *   SUB_DEATH    subscriber 3 may die (at any step)
 *   NO_LATE      subscriber 4 does not exist
 *   PUB_DEATH    publisher 1 may die; publisher 2 takes over
 *   PRELOAD      the topic starts with messages 0 and 1 published (by
 *                publisher 1) and subscriber 3 at cursor 0: the next loans
 *                evict at once (a smaller state space than publishing them)
 *   DEAD_SUB_AT_START  PRELOAD, and subscriber 3 died before reading: the
 *                publisher's next loan waits for the reap, which races
 *                subscriber 4's attach into that record
 *   The three findings of this model (model/README.md, "Found") are fixed
 *   in the code, which the model follows by default; each old behaviour is
 *   a broken variant now:
 *   BROKEN_REAP_CURSOR_STORE  the reap also stores CURSOR_NONE into the
 *                record it freed (erasing a subscriber that attached in between)
 *   BROKEN_HELD_LAP_COUNT  a lap with messages held leaves the cursor, so
 *                the release counts the skipped seqs again
 *   BROKEN_ATTACH_NO_WAKE  neither attach wakes the other side (the
 *                publisher's takeover its parked subscribers, a subscriber's
 *                attach a publisher parked on the cursor it stored)
 *   NO_WAKE_INVARIANT  leave out the monitor's lost-wake-up invariants
 *   BROKEN_NO_RECHECK  the subscriber's release does not re-check the
 *                stamps (no seqlock validation): a torn copy is accepted
 *   BROKEN_STAMP_AFTER the publisher writes the payload before it clears
 *                the stamp
 *   BROKEN_REAP_STORE  the reap clears a dead subscriber's pid with a plain
 *                store after the liveness check instead of CAS(dead pid -> 0)
 *
 * Checked (assertions): a release that says whole (torn 0) never covers a
 * copy whose words are not its seq's; a subscriber gets seqs in increasing
 * order, each at most once; at every release RECEIVED + MISSED equals
 * READEND - start exactly (every seq from the subscriber's start up to the
 * last one handed out counted once, as received or missed); under BLOCK:
 * the publisher never clears the stamp of a message at or above the cursor
 * of a live subscriber whose attach completed (its epoch add) before the
 * loan looked at the epoch, a subscriber skips only history (seqs below the
 * head when its attach completed) and a release never finds a torn message;
 * a live publisher and a live attached subscriber never lose their role or
 * record (NOT_OWNER); attach never finds every record taken; PEER_DIED only
 * after a publisher died. No invalid end state (so a publisher waiting on a
 * dead subscriber is released by the reap, and every subscriber gets to
 * MSGS). Monitor: a subscriber queued on HEADWORD after HEADWORD moved has a
 * publisher between its HEADWORD store and its wake (a publisher that died
 * there leaves that duty to its successor, until the end of its attach); a
 * publisher queued on the cursor of a live
 * subscriber that moved it past the seq the loan evicts has that subscriber
 * between its store and its wake.
 */

#define N 4
#ifdef DEAD_SUB_AT_START
#define PRELOAD
#endif
#define DEPTH 2
#define NONE 255
#ifndef MSGS
#define MSGS 3
#endif
#ifndef HISTORY
#define HISTORY 2
#endif
#ifndef HOLD
#define HOLD 1
#endif
#ifndef LATE_READS
#define LATE_READS 1
#endif
#ifdef OVERWRITE
#define BLOCK false
#else
#define BLOCK true
#endif

byte PPID;
byte HEAD, HEADWORD, MINCACHE, EPOCH_SEEN, LOANED;
byte SUBSL, PUBSL, EPOCH;
byte SPID[2], CURSOR[2], READEND[2], MISSED[2], RECEIVED[2], DEADSEEN[2];
byte STAMP[DEPTH], LEN[DEPTH], PAY[DEPTH];

bool queued[N + 1];
bool inflight[N + 1];
bool alive[N + 1];
bool finished[N + 1];
byte pubDeaths;       /* publishers that died */
bool attached[N + 1]; /* ghost: the subscriber's attach completed (its epoch add), until it detaches */
byte joinHead[N + 1]; /* ghost: HEAD at that epoch add */
byte gcur[N + 1];     /* ghost: the cursor the subscriber last stored */
byte startAt[N + 1];  /* ghost: the seq it started at */
byte sexp[N + 1];     /* ghost: the HEADWORD value a subscriber sleeps on */
byte pexp[N + 1];     /* ghost: the CURSOR value a publisher sleeps on */
byte pw[N + 1];       /* ghost: the record whose cursor a publisher sleeps on */
byte pholder[N + 1];  /* ghost: that record's holder when it went to sleep */
byte pneed[N + 1];    /* ghost: the seq its loan evicts: it needs that cursor above it */
byte pendS;           /* publishers between their HEADWORD store and their look at SUBSL / wake */
byte pendP;           /* subscribers between a cursor store and their look at PUBSL / wake */

#define SLICES
#include "futex.pml"

#define REC(s) ((s) - 3)          /* subscriber 3 starts in record 0; 4 finds its own */

#ifdef PUB_DEATH
#define PUB_MAYBE_DIE \
  if \
  :: d_step { pubDeaths == 0 && me == 1; alive[me] = false; pubDeaths++; inflight[me] = false }; goto died \
  :: skip \
  fi
#else
#define PUB_MAYBE_DIE skip
#endif

#ifdef SUB_DEATH
#define SUB_MAYBE_DIE \
  if \
  :: d_step { me == 3 && alive[3]; alive[me] = false; inflight[me] = false }; goto died \
  :: skip \
  fi
#else
#define SUB_MAYBE_DIE skip
#endif

inline wake_subscribers() {           /* hostWake(HEAD_WORD, all) */
  if :: queued[3] -> queued[3] = false; inflight[3] = true :: else fi;
  if :: queued[4] -> queued[4] = false; inflight[4] = true :: else fi
}

inline wake_publisher_on(rec) {       /* hostWake(record rec + CURSOR, 1) */
  if
  :: queued[1] && pw[1] == rec -> queued[1] = false; inflight[1] = true
  :: queued[2] && pw[2] == rec -> queued[2] = false; inflight[2] = true
  :: else
  fi
}

/* BLOCK: clearing the stamp of seq hh evicts hh - DEPTH; no live subscriber attached before the loan looked needs it */
#define EVICT_OK(s, hh) (!(alive[s] && snap[s] && attached[s]) || hh < DEPTH || hh - DEPTH < gcur[s])
#define ASSERT_EVICT(hh) assert(!BLOCK || EVICT_OK(3, hh) && EVICT_OK(4, hh))

proctype Publisher(byte me) {
  byte h, ev, ep, mc, es, mn, slow, r, p, c, cur, res, k, st;
  bool reap, registered, checkPeer, room, dead;
  bool snap[N + 1];   /* ghost: which subscribers had completed their attach when this loan loaded EPOCH */

  if
  :: me == 1 -> goto produce
  :: else
  fi;
  /* the successor: it starts once the role's holder is dead */
end_start:
  atomic { PPID != 0 && !alive[PPID] -> skip };
  /* topicPublisherAttach, P:28-46 -> claimRole, W:163-177 */
claim_role:
  cur = PPID;                                                                         /* W:167 */
  d_step { dead = cur != 0 && !alive[cur] };                                          /* W:169 */
  if
  :: cur != 0 && !dead -> goto leave                                                  /* W:170 ROLE_BUSY */
  :: else
  fi;
  atomic { if :: PPID == cur -> PPID = me :: else -> cur = 0; dead = false; goto claim_role fi }; /* W:171 */
  h = HEAD;                                                                           /* P:33 */
  do                                                                                  /* P:35-38 */
  :: k < DEPTH ->
    st = STAMP[h % DEPTH];
    if
    :: st != h + 1 -> break
    :: else -> h++; k++
    fi
  :: else -> break
  od;
  k = 0; st = 0;
  HEAD = h;                                                                           /* P:39 */
  d_step { HEADWORD = h; pendS++ };                                                   /* P:40 */
#ifndef BROKEN_ATTACH_NO_WAKE
  atomic { if :: SUBSL != 0 -> wake_subscribers() :: else fi; pendS = 0 };
  LOANED = 0;                                                                         /* P:41 */
#else
  /* no wake: the wake-up a dead publisher owed, and this store's, are nobody's now */
  d_step { LOANED = 0; pendS = 0 };                                                   /* P:41 */
#endif
  ep = EPOCH;                                                                         /* P:43 */
  EPOCH_SEEN = ep - 1;
  if
  :: dead -> PUBSL = 0                                                                /* P:44 */
  :: else
  fi;
  d_step { dead = false; cur = 0; ep = 0; h = 0 };

produce:
  do
  :: HEAD < MSGS ->          /* (ghost look: only this publisher writes HEAD now) */
    checkPeer = false; registered = false;
    /* topicLoanWait -> block over topicLoanStep, P:131-148, parked at once */
step:
    if
    :: registered -> PUBSL--; registered = false                                      /* P:135 */
    :: else
    fi;
    inflight[me] = false;
    reap = checkPeer; checkPeer = false;
again:
    /* loan, P:110-128 */
    assert(PPID == me);                                                    /* P:111 NOT_OWNER */
    PUB_MAYBE_DIE;
    h = HEAD;                                                                         /* P:114 */
    if
    :: LOANED == 0 ->                                                                 /* P:116 */
      if
      :: BLOCK ->
        /* roomFor, P:87-99 */
        room = true;
        if
        :: h >= DEPTH ->
          ev = h - DEPTH;
          d_step { ep = EPOCH; snap[3] = attached[3]; snap[4] = attached[4] };        /* P:90 */
          mc = MINCACHE;                                                              /* P:91 */
          es = EPOCH_SEEN;
          if
          :: mc > ev && ep == es && !reap -> skip                                     /* P:91 shortcut */
          :: else ->
            EPOCH_SEEN = ep;                                                          /* P:92 */
            /* scanCursors, P:61-84 */
            mn = NONE; r = 0;
            do
            :: r < 2 ->
              p = SPID[r];                                                            /* P:65 */
              if
              :: p == 0 -> skip                                                       /* P:66 */
              :: p != 0 && reap && !alive[p] ->                                       /* P:67 recordedHolderAlive */
#ifdef BROKEN_REAP_STORE
                SPID[r] = 0;
                c = 1;
#else
                d_step { if :: SPID[r] == p -> SPID[r] = 0; c = 1 :: else -> c = 0 fi }; /* P:68 */
#endif
                if
                :: c == 1 ->
#ifdef BROKEN_REAP_CURSOR_STORE
                  CURSOR[r] = NONE;                                                   /* P:69 */
#endif
                  EPOCH++                                                             /* P:70 */
                :: else
                fi;
                c = 0
              :: else ->
                c = CURSOR[r];                                                        /* P:76 */
                if
                :: c < mn -> mn = c; slow = r                                         /* P:77-80 */
                :: else
                fi;
                c = 0
              fi;
              p = 0; r++
            :: else -> break
            od;
            r = 0;
            MINCACHE = mn;                                                            /* P:95 */
            if
            :: mn > ev -> skip                                                        /* P:96 */
            :: else -> room = false                                                   /* P:97-98 requestWait */
            fi
          fi
        :: else
        fi;
        reap = false;
        if
        :: !room -> goto is_full                                                      /* P:117 FULL */
        :: else
        fi
      :: else
      fi;
#ifndef BROKEN_STAMP_AFTER
      d_step { STAMP[h % DEPTH] = 0; ASSERT_EVICT(h) };                               /* P:121 */
      PUB_MAYBE_DIE;
#endif
      LOANED = 1                                                                      /* P:123 */
    :: else
    fi;
    d_step { reap = false; ev = 0; ep = 0; mc = 0; es = 0; mn = 0; slow = 0; snap[3] = false; snap[4] = false };
    if
    :: registered -> PUBSL--; registered = false                                      /* P:142 */
    :: else
    fi;
    PUB_MAYBE_DIE;
    PAY[h % DEPTH] = h;                     /* the caller fills the payload in place */
    PUB_MAYBE_DIE;
#ifdef BROKEN_STAMP_AFTER
    d_step { STAMP[h % DEPTH] = 0; ASSERT_EVICT(h) };
    PUB_MAYBE_DIE;
#endif
    /* topicPublish, P:155-177 */
    assert(PPID == me);                                                    /* P:158 */
    d_step { assert(LOANED == 1) };                                                   /* P:159 */
    h = HEAD;                                                                         /* P:162 */
    LEN[h % DEPTH] = h;                                                               /* P:164 */
    PUB_MAYBE_DIE;
    STAMP[h % DEPTH] = h + 1;                                                         /* P:168 */
    PUB_MAYBE_DIE;
    HEAD = h + 1;                                                                     /* P:169 */
    PUB_MAYBE_DIE;
    d_step { HEADWORD = h + 1; pendS++ };                                             /* P:172 */
    PUB_MAYBE_DIE;
    LOANED = 0;                                                                       /* P:173 */
    atomic {                                                                          /* P:175 */
      if
      :: SUBSL != 0 -> wake_subscribers()
      :: else
      fi;
      pendS--; h = 0
    }
  :: else -> break
  od;
  goto leave;

is_full:
  skip;
  d_step { reap = false; ep = 0; mc = 0; es = 0; snap[3] = false; snap[4] = false };
  if
  :: !registered ->
    PUBSL++; registered = true;                                                       /* P:138 */
    goto again                                                                        /* P:139 */
  :: else
  fi;
  d_step { pexp[me] = mn; pneed[me] = ev; pw[me] = slow; pholder[me] = SPID[slow]; mn = 0; ev = 0; h = 0 };
  if
  :: futex_wait(CURSOR[pw[me]], pexp[me])                                            /* W:145 */
  :: SPID[pw[me]] != 0 && !alive[SPID[pw[me]]] -> res = WAIT_TIMED_OUT
    /* the slice runs out at any moment while a dead subscriber holds the record it waits on (ghost
       knowledge that only steers the schedule); otherwise only once nothing else can move */
  fi;
  d_step { checkPeer = res == WAIT_TIMED_OUT; res = 0; pexp[me] = 0; pneed[me] = 0; pw[me] = 0; pholder[me] = 0 }; /* W:146 */
  goto step;

died:
  skip;
  d_step {
    h = 0; ev = 0; ep = 0; mc = 0; es = 0; mn = 0; slow = 0; r = 0; p = 0; c = 0; cur = 0; res = 0;
    reap = false; registered = false; checkPeer = false; room = false; dead = false;
    snap[3] = false; snap[4] = false
  };
leave:
  finished[me] = true
}

proctype Subscriber(byte me) {
  byte r, p, c, h, w, nx, cu, e, sq, st, torn, rcv, res, k, held, ln, s2, nread;
  bool badTorn;        /* ghost: a release found torn a seq at or above joinHead */
  byte hs[HOLD], hl[HOLD], hp[HOLD];
  bool registered, checkPeer, got;

  if
  :: me == 3 -> r = REC(3); goto reads   /* attached at the start */
  :: else
  fi;
  /* topicSubscriberAttach, S:26-53 */
  do
  :: r < 2 ->
    p = SPID[r];                                                                      /* S:31 */
    if
    :: p != 0 && alive[p] -> p = 0; r++                                               /* S:33 */
    :: else ->
      d_step { if :: SPID[r] == p -> SPID[r] = me; p = 1 :: else -> p = 0 fi };       /* S:34 */
      if
      :: p == 1 -> p = 0; break
      :: else -> r++
      fi
    fi
  :: else -> break
  od;
  assert(r < 2);                                 /* two records, one other subscriber: never FULL */
  h = HEAD;                                                                           /* S:40 */
  d_step { if :: h > HISTORY -> c = h - HISTORY :: else -> c = 0 fi; startAt[me] = c; h = 0 };  /* S:41 */
  READEND[r] = c;                                                                     /* S:42 */
  d_step { MISSED[r] = 0; RECEIVED[r] = 0; DEADSEEN[r] = 0 };    /* S:43-45, holder-private */
#ifndef BROKEN_ATTACH_NO_WAKE
  d_step { CURSOR[r] = c; gcur[me] = c; c = 0; pendP++ };                             /* S:46 */
  d_step { EPOCH++; attached[me] = true; joinHead[me] = HEAD };                       /* S:49 */
  atomic { if :: PUBSL != 0 -> wake_publisher_on(r) :: else fi; pendP-- };
#else
  d_step { CURSOR[r] = c; gcur[me] = c; c = 0 };                                      /* S:46 */
  d_step { EPOCH++; attached[me] = true; joinHead[me] = HEAD };                       /* S:49 */
#endif

reads:
  do
  :: held < HOLD && READEND[r] < MSGS && (me == 3 || nread < LATE_READS) ->   /* (ghost looks at its own record) */
    /* topicReadWait -> block over topicReadStep, S:148-174, parked at once */
    checkPeer = false; registered = false;
step:
    assert(SPID[r] == me);                                                 /* S:151 NOT_OWNER */
    SUB_MAYBE_DIE;
    if
    :: registered -> SUBSL--; registered = false                                      /* S:153 */
    :: else
    fi;
    inflight[me] = false;
    got = false;
look:
    /* readOne, S:88-131 */
    c = READEND[r];                                                                   /* S:89 */
    do
    :: true ->
      st = STAMP[c % DEPTH];                                                          /* S:94 */
      if
      :: st == c + 1 ->
        ln = LEN[c % DEPTH];                                                          /* S:95 */
        SUB_MAYBE_DIE;
        READEND[r] = c + 1;                                                           /* S:97 */
        d_step {
          assert(held == 0 || c > hs[held - 1]);          /* in order, each once */
          hs[held] = c; hl[held] = ln; ln = 0; st = 0; got = true
        };
        break
      :: else
      fi;
      w = HEADWORD;                                                                   /* S:106 */
      h = HEAD;                                                                       /* S:107 */
      if
      :: h <= c -> st = 0; break                                                      /* S:108-111 EMPTY */
      :: else
      fi;
      st = STAMP[c % DEPTH];                                                          /* S:113 */
      if
      :: st == c + 1 -> skip                                                          /* continue */
      :: else ->
        d_step {                                                                      /* S:116-118 */
          if :: h >= DEPTH -> nx = h - DEPTH + 1 :: else -> nx = 0 fi;
          if :: nx <= c -> nx = c + 1 :: else fi;
          assert(!BLOCK || nx <= joinHead[me])              /* BLOCK: only history is skipped */
        };
        d_step { MISSED[r] = MISSED[r] + nx - c };                      /* S:119, holder-private */
        SUB_MAYBE_DIE;
        cu = CURSOR[r];                                                               /* S:120 */
        if
        :: cu == c ->
          d_step { CURSOR[r] = nx; gcur[me] = nx; pendP++ };                          /* S:121 */
          atomic { if :: PUBSL != 0 -> wake_publisher_on(r) :: else fi; pendP-- }      /* S:122 */
#ifndef BROKEN_HELD_LAP_COUNT
        :: cu != c ->
          /* the held messages [cu, c) are older than a lapped one: overwritten; count them now */
          d_step { MISSED[r] = MISSED[r] + c - cu; held = 0 };
          d_step { CURSOR[r] = nx; gcur[me] = nx; pendP++ };
          atomic { if :: PUBSL != 0 -> wake_publisher_on(r) :: else fi; pendP-- }
#else
        :: else
#endif
        fi;
        cu = 0;
        c = nx;
        READEND[r] = c                                                                /* S:125 */
      fi;
      st = 0; h = 0
    od;
    if
    :: got -> goto read_done
    :: else
    fi;
    c = 0;
    if
    :: checkPeer ->                                                                   /* S:156-164 */
      checkPeer = false;
      p = PPID;                                                                       /* S:158 */
      s2 = DEADSEEN[r];                                                               /* S:159 */
      if
      :: p != 0 && p != s2 && !alive[p] ->                                            /* S:160 */
        DEADSEEN[r] = p;                                                              /* S:161 */
        d_step { assert(pubDeaths > 0); p = 0; s2 = 0 };                             /* S:162 PEER_DIED */
        goto reads                       /* the caller sees PeerDied once and reads again */
      :: else
      fi;
      p = 0; s2 = 0
    :: else
    fi;
    if
    :: !registered ->
      SUBSL++; registered = true;                                                     /* S:166 */
      goto look                                                                       /* S:167 */
    :: else
    fi;
    d_step { sexp[me] = w; w = 0; h = 0 };
    if
    :: futex_wait(HEADWORD, sexp[me])                                                 /* W:145 */
    :: PPID != 0 && !alive[PPID] -> res = WAIT_TIMED_OUT
      /* the slice runs out at any moment while the publisher role is held by a dead process */
    fi;
    d_step { checkPeer = res == WAIT_TIMED_OUT; res = 0; sexp[me] = 0 };
    goto step;

read_done:
    if
    :: registered -> SUBSL--; registered = false                                      /* S:169 */
    :: else
    fi;
    d_step { c = 0; w = 0; h = 0; nx = 0 };
    hp[held] = PAY[hs[held] % DEPTH];     /* the caller copies the payload in place */
    held++; nread++;
    SUB_MAYBE_DIE
  :: held > 0 ->
    /* topicRelease, S:201-230 */
    assert(SPID[r] == me);                                                 /* S:205 NOT_OWNER */
    e = READEND[r];                                                                   /* S:206 */
    sq = CURSOR[r];                                                                   /* S:207 */
    if
    :: sq > e -> sq = e                                                               /* S:208 */
    :: else
    fi;
    if                                                                                /* S:214-217 */
    :: e - sq > DEPTH -> d_step { torn = e - sq - DEPTH; badTorn = e - DEPTH - 1 >= joinHead[me]; sq = e - DEPTH }
    :: else
    fi;
    do                                                                                /* S:219-223 */
    :: sq < e ->
#ifdef BROKEN_NO_RECHECK
      rcv++;
#else
      st = STAMP[sq % DEPTH];                                                         /* S:220 */
      if
      :: st != sq + 1 -> d_step { torn++; badTorn = badTorn || sq >= joinHead[me] }
      :: else -> rcv++
      fi;
#endif
      st = 0; sq++
    :: else -> break
    od;
    SUB_MAYBE_DIE;
    d_step { MISSED[r] = MISSED[r] + torn };                            /* S:224, holder-private */
    d_step { RECEIVED[r] = RECEIVED[r] + rcv };                         /* S:225, holder-private */
    d_step {
      /* accepted whole: each copy is its seq's */
      assert(torn != 0 || held < 1 || hl[0] == hs[0] && hp[0] == hs[0]);
#if HOLD > 1
      assert(torn != 0 || held < 2 || hl[1] == hs[1] && hp[1] == hs[1]);
#endif
      assert(!BLOCK || !badTorn);                          /* BLOCK: only history is torn */
      /* every seq from the start up to the last handed out counted once */
      assert(MISSED[r] + RECEIVED[r] == e - startAt[me])
    };
    SUB_MAYBE_DIE;
    d_step { CURSOR[r] = e; gcur[me] = e; pendP++ };                                  /* S:227 */
    SUB_MAYBE_DIE;
    atomic {                                                                          /* S:228 */
      if :: PUBSL != 0 -> wake_publisher_on(r) :: else fi;
      pendP--; e = 0; sq = 0; torn = 0; rcv = 0; held = 0; badTorn = false;
      hs[0] = 0; hl[0] = 0; hp[0] = 0
#if HOLD > 1
      ; hs[1] = 0; hl[1] = 0; hp[1] = 0
#endif
    }
  :: held == 0 && (READEND[r] >= MSGS || me == 4 && nread >= LATE_READS) -> break
  od;
  /* topicSubscriberDetach, S:71-81 */
  assert(SPID[r] == me);                                                   /* S:74 */
  d_step { CURSOR[r] = NONE; gcur[me] = NONE; pendP++ };                              /* S:76 */
  d_step { if :: SPID[r] == me -> SPID[r] = 0 :: else fi; attached[me] = false };     /* S:78 */
  EPOCH++;                                                                            /* S:79 */
  atomic { if :: PUBSL != 0 -> wake_publisher_on(r) :: else fi; pendP-- };            /* S:80 */
  goto leave;
died:
  skip;
  d_step {
    p = 0; c = 0; h = 0; w = 0; nx = 0; cu = 0; e = 0; sq = 0; st = 0; torn = 0; rcv = 0; res = 0;
    held = 0; ln = 0; s2 = 0; registered = false; checkPeer = false; got = false
  };
leave:
  finished[me] = true
}

/* a live holder moved the cursor its publisher sleeps on past what the loan needs, and no wake is on its way */
#define PUB_UNWOKEN(q) (queued[q] && CURSOR[pw[q]] > pneed[q] && SPID[pw[q]] == pholder[q] && \
                        pholder[q] != 0 && alive[pholder[q]] && pendP == 0)
#define SUB_UNWOKEN(s) (queued[s] && HEADWORD != sexp[s] && pendS == 0)

active proctype monitor() {
end:
  do
#ifndef NO_WAKE_INVARIANT
  :: d_step { PUB_UNWOKEN(1) || PUB_UNWOKEN(2) -> assert(false) }
  :: d_step { SUB_UNWOKEN(3) || SUB_UNWOKEN(4) -> assert(false) }
#endif
  :: false
  od
}

init {
  atomic {
    alive[1] = true; alive[2] = true; alive[3] = true; alive[4] = true;
    PPID = 1;
    SPID[0] = 3; CURSOR[0] = 0; attached[3] = true; joinHead[3] = 0;
    CURSOR[1] = NONE;
    run Publisher(1);
#ifdef PUB_DEATH
    run Publisher(2);
#else
    finished[2] = true;
#endif
#ifdef PRELOAD
    /* messages 0 and 1 are published; subscriber 3 holds record 0 at cursor 0 */
    STAMP[0] = 1; STAMP[1] = 2; LEN[1] = 1; PAY[1] = 1; HEAD = 2; HEADWORD = 2;
#endif
#ifdef DEAD_SUB_AT_START
    alive[3] = false; finished[3] = true;       /* it died before reading */
#else
    run Subscriber(3);
#endif
#ifndef NO_LATE
    run Subscriber(4)
#else
    finished[4] = true
#endif
  }
}
