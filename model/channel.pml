/*
 * wasm/channel/classic.ts, the classic request/response exchange over one
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
 * plain load/store its own step.
 *
 * The fixed protocol (default) is the one committed in f4f609d,
 * wasm/channel/classic.ts (comments give its lines): every change of state is
 * a CAS from the state observed. Client, settling or awaiting: SERVER_LOST ->
 * CAS to IDLE, PEER_DIED; REQUESTED/SERVING after a slice ran out: read SPID,
 * ask whether it lives; dead: CAS(s, IDLE) (failed: look again), PEER_DIED;
 * RESPONDED is delivered whether or not its permit came (192). Server: CAS
 * REQUESTED -> SERVING, check SERVING and its token before writing the
 * response in place (273), CAS SERVING -> RESPONDED (286). Recovery by the
 * successor (classicFailPending): REQUESTED or SERVING -> SERVER_LOST by CAS,
 * and a response permit. Plus one fix this model asks for (NO_REPOST leaves
 * it out): a client that took access over from a dead one and finds
 * REQUESTED posts a request permit. Servers never detach here, so noServer
 * (SPID == 0, NO_SERVER) is left out; so are the length, status and counter
 * fields (the status is always OK in the fixed protocol).
 *
 * Options (spin -D...):
 *   ITER=n          exchanges per client (2)
 *   CLIENT_DEATH    a client may die (once) anywhere in its exchange; the
 *                   other one takes access over and settles
 *   GIVE_UP         a client's deadline may pass while it awaits the response:
 *                   it ends the exchange (TIMED_OUT), leaving the state for
 *                   the next client to settle
 *   STUCK_SLICES    a wait slice (livenessPollMs) runs out only when nothing
 *                   else can move (Promela timeout); by default it may run
 *                   out at any moment, as a real 100 ms slice does while the
 *                   server is busy; use with pan -DNP -l: no client waits
 *                   for ever (every cycle passes an exchange's end)
 *   RECOVER_REPOST  the successor's recovery the issue described: REQUESTED
 *                   gets a fresh request permit (the successor serves it)
 *                   instead of SERVER_LOST
 *   NO_BUFFER_INVARIANT  leave out the two buffer-ownership assertions (to
 *                   show that the check of the response alone also catches
 *                   the broken variants)
 *   BROKEN_PLAIN_RESET  the client's recovery is "server dead -> plain store
 *                   STATE = IDLE" instead of a CAS from the state observed.
 *                   With RECOVER_REPOST spin finds a violation; with the
 *                   committed recovery it does not (the successor never takes
 *                   up a request left behind, so nobody else moves the state
 *                   while the client looks)
 *   BROKEN_RESPONDED_NEEDS_PERMIT  a client delivers only after taking a
 *                   response permit, as in e64d89b: a server that dies between
 *                   RESPONDED and its post leaves the client waiting for ever
 *                   while a successor lives (pan -DNP -l, STUCK_SLICES)
 *   NO_REPOST       the committed code as it is: a client that died between
 *                   its REQUESTED and its post leaves the next client settling
 *                   for ever while the server waits for a request (needs
 *                   CLIENT_DEATH; pan -DNP -l, STUCK_SLICES)
 *   OLD_PROTOCOL    the protocol of commit e64d89b (wasm/channel_classic.ts):
 *                   plain stores in the client's recovery, the server writes
 *                   the response before it checks the state, recovery answers
 *                   SERVING with SERVER_DIED (CAS SERVING -> RESPONDED) and
 *                   reposts REQUESTED: spin must find a violation
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
#define NO_REPOST
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

#ifdef OLD_PROTOCOL
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
#ifndef NO_REPOST
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

#else
proctype Client(byte me) {
  byte k, s, req, r, sp;
  bool got, ok, dead, checkPeer, tookOver;

  do
  :: k < ITER -> k++; req = me * 4 + k;
    /* step 1, classicAcquireStep (109-118): the access lock (abstract); a dead holder is taken over */
    atomic { ACC == 0 || !alive[ACC] -> tookOver = ACC != 0; ACC = me };
    MAYBE_CDIE;

    /* step 2, classicSettleStep (121-152): wait out an exchange left with the server */
    checkPeer = false;
settle:
    s = STATE;                                                                        /* 127 */
    if
    :: s == IDLE -> s = 0; tookOver = false; goto write                               /* 128-131 */
#ifndef NO_REPOST
    :: s == REQUESTED && tookOver ->   /* the fix proposed: the dead holder may have died before its post */
      tookOver = false; s = 0; REQ++; goto settle
#endif
    :: s == RESPONDED || s == SERVER_LOST -> tookOver = false;                        /* 132-137 */
      atomic { if :: RSP > 0 -> RSP-- :: else fi };                                   /* 134 */
      MAYBE_CDIE;
      atomic { if :: STATE == s -> STATE = IDLE :: else fi; s = 0 };                  /* 135 abandon */
      goto settle
    :: else -> tookOver = false
    fi;
    atomic { got = RSP > 0; if :: got -> RSP-- :: else fi };                          /* 139 */
    if :: got -> got = false; goto settle :: else fi;
    if
    :: checkPeer -> checkPeer = false; CHECK_SERVER(settle)                           /* 140-144 */
    :: else
    fi;
    s = 0;
    if                                                                                /* 145-147 */
    :: atomic { RSP > 0 -> RSP-- }; goto settle
    :: SLICE_ENDS -> checkPeer = true; goto settle
    fi;

write:
    skip;
    /* step 3: the request into the buffer; no live server may be holding one */
    d_step { BUFFER_ASSERT(!LIVE_SERVER_HOLDS); BUF = req };
    MAYBE_CDIE;
    /* step 4, classicPost (155-166) */
    d_step { assert(STATE == IDLE) };                                                 /* 159 */
    r = SEQ;                                                                          /* 161 */
    SEQ = r + 1; r = 0;
    d_step { assert(STATE == IDLE); STATE = REQUESTED };                              /* 163 CAS */
    MAYBE_CDIE;
    REQ++;                                                                            /* 164 */
    MAYBE_CDIE;

    /* step 8, classicAwaitStep (179-207) */
    checkPeer = false;
await:
    atomic { got = RSP > 0; if :: got -> RSP-- :: else fi };                          /* 185 */
    if
    :: got -> got = false;
      if :: STATE == RESPONDED -> goto deliver :: else fi                             /* 188 */
    :: else
    fi;
    s = STATE;                                                                        /* 191 */
    if
#ifndef BROKEN_RESPONDED_NEEDS_PERMIT
    :: s == RESPONDED -> s = 0; goto deliver                                          /* 192 */
#endif
    :: s == SERVER_LOST -> CHECK_SERVER(await)                                        /* 195-199 */
    :: else -> assert(s != IDLE)                                                      /* 193: only we leave REQUESTED */
    fi;
    if
    :: checkPeer -> checkPeer = false; CHECK_SERVER(await)                            /* 195-199 */
    :: else
    fi;
    s = 0;
    if                                                                                /* 200-202 */
    :: atomic { RSP > 0 -> RSP-- }; goto await
    :: SLICE_ENDS -> checkPeer = true; goto await
#ifdef GIVE_UP
    :: SLICE_ENDS -> goto end_exchange       /* the deadline passed: TIMED_OUT, the state left as it is */
#endif
    fi;

deliver:
    s = 0;
    r = BUF;                                 /* the caller reads the response in place */
    d_step { assert(r == F(req)); r = 0 };
    MAYBE_CDIE;
end_exchange:
    /* step 9, classicEnd (210-216): abandon(RESPONDED) */
    atomic { if :: STATE == RESPONDED -> STATE = IDLE :: else fi };                   /* 213 */
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
    /* channelServerAttach -> claimRole (base/waiting.ts) */
claim:
    cur = SPID;
    d_step { dead = !alive[cur] };
    assert(dead);                                       /* never busy here */
    atomic { dead = false; if :: SPID == cur -> SPID = me :: else -> cur = 0 fi };
    if :: cur == 0 -> goto claim :: else -> cur = 0 fi;
    /* classicRecover -> classicFailPending (224-238) */
    s = STATE;                                                                        /* 226 */
    if
#ifdef RECOVER_REPOST
    :: s == REQUESTED -> REQ++; s = 0          /* the recovery of the brief: serve it afresh */
    :: s == SERVING ->
#else
    :: s == REQUESTED || s == SERVING ->
#endif
      atomic { if :: STATE == s -> STATE = SERVER_LOST :: else -> s = 0 fi };         /* 228 */
      if :: s != 0 -> RSP++ :: else fi
    :: else
    fi;
    s = 0
  fi;

serve:
  /* classicReceiveStep (241-263): a permit, then CAS REQUESTED -> SERVING */
end_receive:
  atomic { REQ > 0 -> REQ-- };                                                        /* 246, 251 */
  MAYBE_SDIE;
  atomic { s = STATE; if :: s == REQUESTED -> STATE = SERVING; holds[me] = true :: else fi }; /* 254 */
  if :: s != REQUESTED -> s = 0; goto serve :: else -> s = 0 fi;
  MAYBE_SDIE;
  token = SEQ;                                                                        /* 260 */
  r = BUF;                                      /* the handler reads the request */
  MAYBE_SDIE;
  /* classicResponseBuffer (269-275): still SERVING with our token before the buffer is written */
  if :: STATE != SERVING -> goto drop :: else fi;                                     /* 273 */
  if :: SEQ != token -> goto drop :: else fi;
  d_step { BUFFER_ASSERT(STATE == SERVING); BUF = F(r); r = 0 };  /* the handler writes the response in place */
  MAYBE_SDIE;
  /* classicRespond (278-289): the same check (280), then CAS SERVING -> RESPONDED */
  if :: STATE != SERVING -> goto drop :: else fi;
  if :: SEQ != token -> goto drop :: else fi;
  atomic { s = STATE; if :: s == SERVING -> STATE = RESPONDED; holds[me] = false :: else fi; token = 0 }; /* 286 */
  if :: s != SERVING -> s = 0; goto drop :: else -> s = 0 fi;
  MAYBE_SDIE;
  RSP++;                                                                              /* 287 */
  goto serve;
drop:
  skip;
  d_step { holds[me] = false; token = 0; r = 0 };
  goto serve;
died:
  skip;
  d_step { s = 0; r = 0; token = 0; cur = 0; dead = false }
}

#endif

init {
  atomic {
    alive[1] = true; alive[2] = true; alive[3] = true; alive[4] = true;
    SPID = FIRST_SERVER;
    run Client(1); run Client(2);
    run Server(3); run Server(4)
  }
}
