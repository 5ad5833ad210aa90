/*
 * wasm/channel_classic.ts, the classic request/response exchange over one
 * shared buffer, with server death and a successor server that recovers.
 *
 *   STATE   the exchange state: IDLE, REQUESTED, SERVING, RESPONDED and
 *           SERVER_LOST ("the server died holding this request; no response
 *           will come", the fix under way)
 *   BUF     the buffer: a request id written by the client, then the
 *           response F(request) written in place by the server
 *   SEQ     the sequence token (client: +1 per post; server: checks it)
 *   STATUS  the response status (old protocol only: SERVER_DIED from recovery)
 *   REQ/RSP the request and response semaphores, abstractly: a post is one
 *           step, a wait takes a permit once there is one (semaphore.pml
 *           checks the semaphore itself); permits are hints, never the truth
 *   SPID    the server role (pid), taken over by CAS from a dead pid
 *   ACC     the access lock, abstractly: one client in an exchange at a
 *           time; a client that finds the holder dead takes it over (the
 *           robust mutex, mutex.pml) and must settle what was left behind
 *
 * Pids: clients 1 and 2, server 3 (attached at the start) and server 4, its
 * successor, which starts once 3 is dead and attaches by CAS on SPID. Each
 * client makes ITER exchanges. Every atomic.* of the code is one step, every
 * plain load/store its own step. Comments give channel_classic.ts lines of
 * the old protocol (commit e64d89b) where the fixed one keeps them.
 *
 * The fixed protocol (default):
 *   client, on a slice end: observe s; SERVER_LOST: CAS(s, IDLE), PEER_DIED;
 *     REQUESTED/SERVING: read SPID, ask whether it lives; dead: CAS(s, IDLE)
 *     (failed: look again, a new server may have taken the request), PEER_DIED
 *   server: before it writes the response in place, STATE is still SERVING
 *     and SEQ its token
 *   recovery (successor): REQUESTED: post a fresh request permit; SERVING:
 *     CAS(SERVING, SERVER_LOST), post a response permit
 *
 * Options (spin -D...):
 *   ITER=n          exchanges per client (2)
 *   CLIENT_DEATH    a client may die (once) anywhere in its exchange; the
 *                   other one takes access over and settles
 *   STUCK_SLICES    a wait slice (livenessPollMs) runs out only when nothing
 *                   else can move (Promela timeout); by default it may run
 *                   out at any moment, as a real 100 ms slice does while the
 *                   server is busy; use with pan -DNP -l: no client waits
 *                   forever (every cycle passes an exchange's end)
 *   GIVE_UP         a client's deadline may pass while it awaits the response:
 *                   it ends the exchange (TIMED_OUT), leaving the state for
 *                   the next client to settle
 *   NO_BUFFER_INVARIANT  leave out the two buffer-ownership assertions (to
 *                   show that the check of the response alone also catches
 *                   the broken variants)
 *   BROKEN_PLAIN_RESET  the client's recovery is "server dead -> plain store
 *                   STATE = IDLE" instead of a CAS from the state observed
 *                   (everything else fixed): spin must find a violation
 *   BROKEN_RESPONDED_NEEDS_PERMIT  a client delivers only after taking a
 *                   response permit, as in e64d89b: a server that dies between
 *                   its RESPONDED store and its post leaves the client waiting
 *                   for ever while a successor lives (found by this model; pan
 *                   -DNP -l with STUCK_SLICES reports the cycle). The fixed
 *                   model delivers a RESPONDED state seen when a slice ran out
 *   BROKEN_NO_REPOST  a client that takes access over from a dead one and
 *                   finds REQUESTED does not post a request permit, as in
 *                   e64d89b: a client that died between its REQUESTED store
 *                   and its post leaves its successor settling for ever while
 *                   the server waits for a request (found by this model; needs
 *                   CLIENT_DEATH; pan -DNP -l with STUCK_SLICES). The fixed
 *                   model posts a fresh permit (a hint, like every permit)
 *   OLD_PROTOCOL    the protocol of commit e64d89b: the plain store above,
 *                   the server writes the response before it checks the
 *                   state, recovery answers SERVING with SERVER_DIED
 *                   (CAS SERVING -> RESPONDED): spin must find a violation
 *
 * Checked: a client that returns a response got F(its own request) (never a
 * response to another request, never its own request back); PEER_DIED only
 * after a server died; the server writes the buffer only while SERVING (so
 * never while a client writes it); a client writes its request only while no
 * live server holds a request (between its CAS to SERVING and RESPONDED); no
 * invalid end state (nobody blocked for ever; servers may wait for requests).
 */

#define N 4
#ifndef ITER
#define ITER 2
#endif
#ifndef MAXCDEATHS
#define MAXCDEATHS 1
#endif

#ifdef OLD_PROTOCOL
#define BROKEN_PLAIN_RESET
#define BROKEN_RESPONDED_NEEDS_PERMIT
#define BROKEN_NO_REPOST
#endif

#define IDLE        0
#define REQUESTED   1
#define SERVING     2
#define RESPONDED   3
#define SERVER_LOST 4

#define STATUS_OK          0
#define STATUS_SERVER_DIED 2

#define F(r) ((r) + 16)
#define FIRST_SERVER 3

byte STATE;
byte BUF;
byte SEQ;
byte STATUS;
byte REQ;
byte RSP;
byte SPID;
byte ACC;

bool alive[N + 1];
bool holds[N + 1];    /* ghost: server between its CAS to SERVING and its RESPONDED store (or drop) */
byte sdeaths;
byte cdeaths;

#define LIVE_SERVER_HOLDS (holds[3] && alive[3] || holds[4] && alive[4])

#ifdef NO_BUFFER_INVARIANT
#define BUFFER_ASSERT(c) skip
#else
#define BUFFER_ASSERT(c) assert(c)
#endif

#ifdef STUCK_SLICES
#define SLICE_ENDS timeout
#else
#define SLICE_ENDS skip
#endif

#ifdef CLIENT_DEATH
#define MAYBE_CDIE \
  if \
  :: d_step { cdeaths < MAXCDEATHS; alive[me] = false; cdeaths++ }; goto died \
  :: skip \
  fi
#else
#define MAYBE_CDIE skip
#endif

/* Only the first server dies; its successor lives. */
#define MAYBE_SDIE \
  if \
  :: me == FIRST_SERVER && sdeaths == 0 -> d_step { alive[me] = false; sdeaths++ }; goto died \
  :: skip \
  fi

/*
 * The client's look at a dead server after a slice ran out (await 155-157,
 * settle 104-106 in the old code). s is the state it observed. Leads to
 * peer_died, or back to `again` (look again), or falls through (server alive).
 */
#ifdef BROKEN_PLAIN_RESET
#define CHECK_SERVER(again) \
  if \
  :: s == SERVER_LOST -> STATE = IDLE; goto peer_died \
  :: else -> \
    sp = SPID; \
    d_step { dead = !alive[sp]; sp = 0 }; \
    if \
    :: dead -> dead = false; STATE = IDLE; goto peer_died \
    :: else \
    fi \
  fi
#else
#define CHECK_SERVER(again) \
  if \
  :: s == SERVER_LOST -> \
    atomic { ok = STATE == SERVER_LOST; if :: ok -> STATE = IDLE :: else fi }; \
    if :: ok -> ok = false; goto peer_died :: else -> s = 0; goto again fi \
  :: else -> \
    sp = SPID; \
    d_step { dead = !alive[sp]; sp = 0 }; \
    if \
    :: dead -> \
      atomic { dead = false; ok = STATE == s; if :: ok -> STATE = IDLE :: else fi }; \
      if :: ok -> ok = false; goto peer_died :: else -> s = 0; goto again fi \
    :: else \
    fi \
  fi
#endif

proctype Client(byte me) {
  byte k, s, st, req, r, sp;
  bool got, ok, dead, checkPeer, tookOver;

  do
  :: k < ITER -> k++; req = me * 4 + k;
    /* step 1, classicAcquireStep: the access lock (abstract); a dead holder is taken over */
    atomic { ACC == 0 || !alive[ACC] -> tookOver = ACC != 0; ACC = me };
    MAYBE_CDIE;

    /* step 2, classicSettleStep (90-115): wait out an exchange left with the server */
    checkPeer = false;
settle:
    s = STATE;                                                                        /* 96 */
    if
    :: s == IDLE -> s = 0; tookOver = false; goto write                               /* 97 */
#ifndef BROKEN_NO_REPOST
    :: s == REQUESTED && tookOver ->   /* the dead holder may have died before its post: post afresh */
      tookOver = false; s = 0; REQ++; goto settle
#endif
    :: s == RESPONDED -> tookOver = false;                                            /* 98-101 */
      atomic { if :: RSP > 0 -> RSP-- :: else fi };
      MAYBE_CDIE;
      STATE = IDLE; s = 0; goto write
    :: else -> tookOver = false
    fi;
    atomic { got = RSP > 0; if :: got -> RSP-- :: else fi };                          /* 103 */
    if :: got -> got = false; goto settle :: else fi;
    if
    :: checkPeer -> checkPeer = false; CHECK_SERVER(settle)                           /* 104-106 */
    :: else
    fi;
    s = 0;
    if                                                                                /* 108-110 */
    :: atomic { RSP > 0 -> RSP-- }; goto settle
    :: SLICE_ENDS -> checkPeer = true; goto settle
    fi;

write:
    skip;
    /* step 3: the request into the buffer; no live server may be holding one */
    d_step { BUFFER_ASSERT(!LIVE_SERVER_HOLDS); BUF = req };
    MAYBE_CDIE;
    /* step 4, classicPost (118-129) */
    r = SEQ;                                                                          /* 124 */
    SEQ = r + 1; r = 0;
    STATE = REQUESTED;                                                                /* 126 */
    MAYBE_CDIE;
    REQ++;                                                                            /* 127 */
    MAYBE_CDIE;

    /* step 8, classicAwaitStep (142-167) */
    checkPeer = false;
await:
    atomic { got = RSP > 0; if :: got -> RSP-- :: else fi };                          /* 148 */
    if
    :: got -> got = false;
      if :: STATE == RESPONDED -> goto deliver :: else -> goto await fi              /* 150 */
    :: else
    fi;
    s = STATE;                                                                        /* 153 */
    assert(s != IDLE);                                                                /* 154: only we leave REQUESTED */
    if
#ifndef BROKEN_RESPONDED_NEEDS_PERMIT
    :: checkPeer && s == RESPONDED -> checkPeer = false; goto deliver  /* the response is there, its permit never came */
    :: checkPeer && s != RESPONDED -> checkPeer = false; CHECK_SERVER(await)
#else
    :: checkPeer -> checkPeer = false; CHECK_SERVER(await)                            /* 155-158 */
#endif
    :: else
    fi;
    s = 0;
    if                                                                                /* 159-162 */
    :: atomic { RSP > 0 -> RSP-- };
      if :: STATE == RESPONDED -> goto deliver :: else -> goto await fi
    :: SLICE_ENDS -> checkPeer = true; goto await
#ifdef GIVE_UP
    :: SLICE_ENDS -> goto end_exchange       /* the deadline passed: TIMED_OUT, the state left as it is */
#endif
    fi;

deliver:
    s = 0;
#ifdef OLD_PROTOCOL
    st = STATUS;                                                                      /* 137 */
#endif
    r = BUF;
    d_step {
      if
      :: st == STATUS_SERVER_DIED -> assert(sdeaths > 0)
      :: else -> assert(r == F(req))
      fi;
      st = 0; r = 0
    };
    MAYBE_CDIE;
end_exchange:
    /* step 9, classicEnd (170-176) */
    if :: STATE == RESPONDED -> STATE = IDLE :: else fi;                              /* 173 */
    goto finish;

peer_died:
    assert(sdeaths > 0);
    s = 0;

finish:
progress_exchange:
    skip;
    d_step { ACC = 0; checkPeer = false; req = 0 }
  :: else -> break
  od;
  goto done;
died:
  skip;
  d_step { s = 0; r = 0; req = 0; sp = 0; got = false; ok = false; dead = false; checkPeer = false; tookOver = false };
done:
  skip
}

proctype Server(byte me) {
  byte s, r, token, cur;
  bool dead;

  if
  :: me == FIRST_SERVER -> skip        /* attached before the clients start */
  :: else ->
end_wait:
    atomic { !alive[FIRST_SERVER] -> skip };
    /* channelServerAttach -> claimRole (waiting.ts 161-172) */
claim:
    cur = SPID;                                                                       /* 163 */
    d_step { dead = !alive[cur] };                                                    /* 165 */
    assert(dead);                                                                     /* 166: never busy here */
    atomic { dead = false; if :: SPID == cur -> SPID = me :: else -> cur = 0 fi };    /* 167 */
    if :: cur == 0 -> goto claim :: else -> cur = 0 fi;
    /* classicRecover (184-194) */
    s = STATE;                                                                        /* 186 */
    if
    :: s == REQUESTED -> REQ++                                                        /* 188 */
    :: s == SERVING ->
#ifdef OLD_PROTOCOL
      STATUS = STATUS_SERVER_DIED;                                                    /* 190-191 */
      atomic { if :: STATE == SERVING -> STATE = RESPONDED; s = RESPONDED :: else fi }; /* 192 */
      if :: s == RESPONDED -> RSP++ :: else fi
#else
      atomic { if :: STATE == SERVING -> STATE = SERVER_LOST; s = SERVER_LOST :: else fi };
      if :: s == SERVER_LOST -> RSP++ :: else fi
#endif
    :: else
    fi;
    s = 0
  fi;

serve:
  /* classicReceiveStep (197-219): a permit, then CAS REQUESTED -> SERVING */
end_receive:
  atomic { REQ > 0 -> REQ-- };                                                        /* 202, 207 */
  MAYBE_SDIE;
  atomic { s = STATE; if :: s == REQUESTED -> STATE = SERVING; holds[me] = true :: else fi }; /* 210 */
  if :: s != REQUESTED -> s = 0; goto serve :: else -> s = 0 fi;
  MAYBE_SDIE;
  token = SEQ;                                                                        /* 216 */
  r = BUF;                                      /* the handler reads the request */
  MAYBE_SDIE;
#ifndef OLD_PROTOCOL
  /* the fix: STATE still SERVING with our token before the buffer is written */
  if :: STATE != SERVING -> goto drop :: else fi;
  if :: SEQ != token -> goto drop :: else fi;
#endif
  d_step { BUFFER_ASSERT(STATE == SERVING); BUF = F(r); r = 0 };  /* the handler writes the response in place */
  MAYBE_SDIE;
#ifdef OLD_PROTOCOL
  /* classicRespond (222-234): the check comes after the write */
  if :: STATE != SERVING -> goto drop :: else fi;                                     /* 224 */
  if :: SEQ != token -> goto drop :: else fi;
  STATUS = STATUS_OK;                                                                 /* 229 */
#endif
  d_step { STATE = RESPONDED; holds[me] = false; token = 0 };                         /* 232 */
  MAYBE_SDIE;
  RSP++;                                                                              /* 233 */
  goto serve;
drop:
  skip;
  d_step { holds[me] = false; token = 0; r = 0 };
  goto serve;
died:
  skip;
  d_step { s = 0; r = 0; token = 0; cur = 0; dead = false }
}

init {
  atomic {
    alive[1] = true; alive[2] = true; alive[3] = true; alive[4] = true;
    SPID = FIRST_SERVER;
    run Client(1); run Client(2);
    run Server(3); run Server(4)
  }
}
