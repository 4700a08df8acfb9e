defmodule SnakeBridge.Call do
  @moduledoc false
  # A call's life: send its frame to the worker (SnakeBridge.Call.Route chose), wait
  # for the answer while serving the callbacks Python makes meanwhile, and on timeout
  # interrupt the Python call or give it up.
  #
  # The caller writes the frame itself, through the worker's transport, tagged with its
  # reply address; the worker's router forwards the replies there (see Pool.Router,
  # which also says how a call that is given up leaves nothing behind in the mailbox).
  #
  # Crash detection: a call that is still waiting after @watch_after ms monitors its
  # worker's server. Nearly every call is answered before that, and a monitor with its
  # removal costs about 0.18 µs of a 12 µs call (measured); a worker that dies meanwhile
  # is noticed then, at most @watch_after ms late, with the reason it recorded (see
  # Pool.Table.note_exit/4).
  #
  # Re-running: a call whose worker dies before taking it up runs on the replacement,
  # within its own deadline; running twice a call that had started would be worse than
  # failing it, so the rule must be certain. A request that finds other requests in
  # flight at check-in (it may be queued) carries the :report_start flag, and the
  # worker answers it with a :started reply before decoding its body or running any
  # user code. When the worker dies of itself (its exit status or signal is known) on a
  # transport whose replies all reach their callers before its server goes down
  # (Pool.Transport.replies_precede_death?/1), a flagged call with no :started reply
  # never started; nor did a call whose frame was never written (the port was closed).
  # Such a call is routed and sent again, unless it carries refs of the lost worker:
  # those are gone with it (RefError :worker_lost). A lone call carries no flag and
  # costs nothing; if its worker dies, it may have started, and it gets the crash.

  import Bitwise

  require SnakeBridge.Pool.Entry

  alias SnakeBridge.{
    EncodeError,
    OverloadError,
    Session,
    Shm,
    TimeoutError,
    Wire,
    WorkerCrashError
  }

  alias SnakeBridge.Call.{Args, Callback, Header, Reply, Route}
  alias SnakeBridge.Pool.{Entry, Router, Table, Transport, WorkerServer}
  alias SnakeBridge.Pool.Transport.LocalPort

  @ok Wire.kind(:ok)
  @error Wire.kind(:error)
  @callback_kind Wire.kind(:callback)
  @started Wire.kind(:started)
  @report_start Wire.report_start()
  @output_caller Wire.output_caller()
  @kind_mask bnot(Wire.shm_flag() ||| Wire.blob_flag()) &&& 0xFF

  # Every request's path runs through these small steps: inlined, they cost no call
  # each (see bench/call_profile.exs).
  @compile {:inline,
            check_in: 4,
            settings: 2,
            output_bit: 1,
            opt: 3,
            session: 3,
            start: 4,
            start_flag: 1,
            encode_body: 2,
            parent: 2,
            finish: 1,
            transmit: 3,
            first_send: 8,
            send_now: 2}

  # See "Crash detection" in the module comment.
  @watch_after 50
  # How often a running call that timed out is interrupted again during its grace
  # period (see await_unwind/3).
  @interrupt_again_after 100
  # The longest pause between tries to write to a busy port (see send_later/4).
  @max_send_pause 20

  @enforce_keys [:box, :id, :tag, :transport, :server, :pool, :index, :session, :caller]
  defstruct [
    :box,
    :id,
    :tag,
    :transport,
    :server,
    :load,
    :pool,
    :index,
    :session,
    :caller,
    :frame,
    :refs,
    start: :untracked,
    monitor: nil,
    timeout: :infinity,
    grace: 0,
    on_timeout: :interrupt
  ]

  @typedoc """
  A call in flight. Replies come as `{box, id, kind, payload}`: `box` is
  `:snakebridge_reply` and `id` the call's id for a counted call, an alias and
  `:uncounted` for a control-channel request. `load` is the worker's in-flight
  counter (nil when the request is not counted); `monitor` is set once the call
  watches its worker's server. `frame` is the request as sent, `refs` the worker its
  refs live on (nil if none). `start` says whether the call may run again on a
  replacement if its worker dies (see "Re-running" in the module comment):
  `:untracked` never (a call nested in a callback, a control-channel request),
  `:unreported` only if its frame was never written, `:awaited` (flagged
  :report_start) unless its `:started` reply came, which makes it `:reported`.
  """
  @type t :: %__MODULE__{
          box: :snakebridge_reply | reference,
          id: integer | :uncounted,
          tag: binary,
          transport: Transport.t(),
          server: pid,
          load: :atomics.atomics_ref() | nil,
          pool: atom,
          index: non_neg_integer,
          session: Session.t(),
          caller: non_neg_integer,
          frame: iodata,
          refs: Entry.worker_id() | nil,
          start: :untracked | :unreported | :awaited | :reported,
          monitor: reference | nil,
          timeout: timeout,
          grace: non_neg_integer,
          on_timeout: :interrupt | :abandon
        }

  @typedoc """
  Options of `request/4`: the public call options (SnakeBridge.Options), and the
  internal `:channel` (`:main` or `:control`), `:on_timeout` (`:interrupt` or
  `:abandon`) and `:kill_grace`.
  """
  @type opts :: keyword

  @doc """
  Sends `op` with its prepared `body` and waits for its answer. `worker_id` is where
  the body's refs live (nil if none).
  """
  @spec request(Header.op(), term, Entry.worker_id() | nil, opts) ::
          {:ok, term} | {:error, Exception.t()}
  def request(op, body, worker_id, opts) do
    with {:ok, meta} <- Route.meta(worker_id, opts),
         pool = meta.name,
         timeout = opt(opts, :timeout, meta.timeout),
         deadline = Route.deadline(timeout),
         {:ok, session} <- session(op, pool, opts),
         {:ok, index, entry} <- Route.worker(meta, session, worker_id, deadline),
         settings = settings(opts, meta),
         place when is_atom(place) <- check_in(meta, index, entry, settings) do
      # Counted out by the worker's router when the reply comes (see Pool.Table).
      plan = {settings, place, worker_id}

      try do
        send_and_await(op, body, plan, meta, index, entry, session, timeout, deadline)
      after
        # The segment files written for it, or for a callback's result meanwhile.
        Shm.clean_up()
      end
    else
      # Refused before sending: the segments written for it go now.
      error ->
        Shm.clean_up()
        error
    end
  end

  @doc """
  `SnakeBridge.call(module, name, args)` with no keyword arguments and no options, when
  its arguments need no preparation (`Args.plain?/1`) and the calling process keeps a
  current route to its session's worker (`Route.kept/2`): `request/4` without the
  option, argument and routing layers, which would find nothing to do here. Live, on
  one CPU shared with the worker, those layers cost 1.4–2.1 µs of a 30 µs call (each a
  call into another module, cold after the worker has run; bench/README.md, "session
  7"). `:general` when the call is not such a one: no request was sent or counted.
  """
  @spec fast_call(String.t(), String.t(), list) ::
          {:ok, term} | {:error, Exception.t()} | :general
  def fast_call(module, name, args) do
    with true <- Args.plain?(args),
         {:ok, session} <- Session.resolve(:default, nil),
         index = session.worker,
         {meta, Entry.ready(load: load) = entry} <- Route.kept(:default, index),
         place when is_atom(place) <- Table.check_in(meta, index, load) do
      plan = {settings([], meta), place, nil}
      deadline = Route.deadline(meta.timeout)

      try do
        send_and_await(
          :call,
          {module, name, args, []},
          plan,
          meta,
          index,
          entry,
          session,
          meta.timeout,
          deadline
        )
      after
        Shm.clean_up()
      end
    else
      # A full queue: what the general path would answer too.
      {:error, %OverloadError{}} = refused -> refused
      # Not plain, not kept, or a released session, which the general path answers
      # (after checking that the pool runs).
      _other -> :general
    end
  end

  @doc false
  # For bench/pool_overhead.exs only: `request/4` with routing bypassed, to measure
  # what the pool adds. `route` comes from `__route__/1`, resolved once up front; what
  # remains is the frame's send and its answer, and the in-flight count, which must
  # stay because the worker's router counts every reply out.
  def __direct__(op, body, {meta, index, entry, session}, opts) do
    :atomics.add(Entry.ready(entry, :load), 1, 1)
    deadline = Route.deadline(meta.timeout)

    plan = {settings(opts, meta), :ok, nil}

    try do
      send_and_await(op, body, plan, meta, index, entry, session, meta.timeout, deadline)
    after
      Shm.clean_up()
    end
  end

  @doc false
  # The calling process's worker in `pool`, as `__direct__/4` takes it.
  def __route__(pool) do
    {:ok, session} = Session.resolve(pool, nil)
    meta = Table.meta(pool)
    {:ok, entry} = Route.ready_entry(meta, session.worker, nil, :infinity)
    {meta, session.worker, entry, session}
  end

  # Requests on the control channel (stats) wait behind no call: they are not counted.
  defp check_in(_meta, _index, _entry, {:control, _return, _grace, _on_timeout, _output}),
    do: :ok

  defp check_in(meta, index, Entry.ready(load: load), _settings),
    do: Table.check_in(meta, index, load)

  # The options a request reads after routing, in one pass: they are nearly always [],
  # and each Keyword lookup would be a call of its own.
  defp settings([], meta),
    do: {:main, :auto, meta.kill_grace, :interrupt, output_bit(meta.output)}

  defp settings(opts, meta) do
    {Keyword.get(opts, :channel, :main), Keyword.get(opts, :return, :auto),
     Keyword.get(opts, :kill_grace, meta.kill_grace), Keyword.get(opts, :on_timeout, :interrupt),
     output_bit(Keyword.get(opts, :output, meta.output))}
  end

  # `output: :caller` (the call's option, else the pool's): see SnakeBridge's options.
  defp output_bit(:caller), do: @output_caller
  defp output_bit(:logger), do: 0

  # Options are usually [], and Keyword.get costs a function call and a keyfind on every
  # request: several of them, on every call.
  defp opt([], _key, default), do: default
  defp opt(opts, key, default), do: Keyword.get(opts, key, default)

  defp session(:release_session, _pool, opts), do: {:ok, Keyword.fetch!(opts, :session)}
  defp session(_op, pool, opts), do: Route.session(pool, opts)

  # `plan`: the request's settings, its place at check-in (see Pool.Table.check_in/3)
  # and the worker its refs live on.
  defp send_and_await(op, body, plan, meta, index, entry, session, timeout, deadline) do
    {{channel, return, grace, on_timeout, output}, place, worker_id} = plan
    Entry.ready(server: server, transport: transport, load: load) = entry
    caller = Session.caller_id()
    {op, body} = encode_body(op, body)
    {blob_flag, body, file_bytes} = Shm.frame_body(body)

    # A request on the control channel (stats) is not counted in flight, and its tag
    # tells the router so (see Pool.Table and Pool.Router).
    {parent, channel, tag, box, id, load} =
      if channel == :control do
        alias = :erlang.alias()
        {<<>>, :control, Router.alias_tag(alias), alias, :uncounted, nil}
      else
        {parent, channel} = parent(meta.name, index)
        {tag, id} = Router.call_tag()
        {parent, channel, tag, :snakebridge_reply, id, load}
      end

    start = start(channel, parent, place, transport)
    flags = Header.flags(return) + blob_flag + output + start_flag(start)
    frame = [Header.build(op, flags, tag, session.id, caller, parent) | body]

    # The call's state, built only when a slow path needs it (a callback, a crash, a
    # wait past @watch_after, a frame not sent): nearly every call is answered by its
    # first wait, and the struct costs more than the closure (~120 against ~30 ns).
    state = fn ->
      %__MODULE__{
        box: box,
        id: id,
        tag: tag,
        transport: transport,
        server: server,
        load: load,
        pool: meta.name,
        index: index,
        session: session,
        caller: caller,
        frame: frame,
        refs: worker_id,
        start: start,
        timeout: timeout,
        grace: grace,
        on_timeout: on_timeout
      }
    end

    # Shared-memory files count too: :max_frame bounds a request whichever way it goes.
    size = :erlang.iolist_size(body) + file_bytes

    if size > meta.max_frame do
      finish(state.())
      Table.count_out(load)
      {:error, too_large(size, meta.max_frame)}
    else
      first_send(channel, transport, frame, box, id, state, deadline, timeout)
    end
  end

  defp first_send(:main, transport, frame, box, id, state, deadline, timeout) do
    case send_now(transport, frame) do
      :ok -> first_wait(box, id, state, deadline, timeout)
      unsent -> unsent(unsent, state.(), deadline)
    end
  end

  defp first_send(channel, _transport, _frame, _box, _id, state, deadline, timeout),
    do: dispatch(channel, state.(), deadline, timeout)

  # The local transport named, not looked up by module through Transport: 0.17–0.42
  # µs a call less live (bench/README.md, "session 7"). Matched by its name: a struct
  # pattern would make this module wait for LocalPort's compilation.
  defp send_now(%{__struct__: LocalPort} = transport, frame),
    do: LocalPort.send_frame(transport, frame)

  defp send_now(transport, frame), do: Transport.send_frame(transport, frame)

  # Sends the call's frame and waits for its answer; `wait` is the time left, in ms.
  defp dispatch(channel, call, deadline, wait) do
    case transmit(channel, call, call.frame) do
      :ok -> await(call, deadline, wait)
      unsent -> unsent(unsent, call, deadline)
    end
  end

  defp unsent(:busy, call, deadline) do
    Table.count_out(call.load)
    send_later(call, deadline, 1)
  end

  defp unsent(:closed, call, deadline) do
    Table.count_out(call.load)
    crashed(call, deadline)
  end

  # Whether the call may run again on a replacement (see `t:t/0` and "Re-running").
  defp start(:main, <<>>, :queued, transport) do
    if Transport.replies_precede_death?(transport), do: :awaited, else: :unreported
  end

  defp start(:main, <<>>, _place, _transport), do: :unreported
  defp start(_channel, _parent, _place, _transport), do: :untracked

  defp start_flag(:awaited), do: @report_start
  defp start_flag(_start), do: 0

  # The worker's port is busy (a big request waits behind a long call, see
  # Pool.Transport.LocalPort): try again after a pause, until the caller's own deadline.
  # Between tries the request is not counted in flight, so a caller killed while it
  # waits leaves no count behind.
  defp send_later(call, deadline, pause) do
    case Route.remaining(deadline) do
      0 ->
        finish(call)
        {:error, %TimeoutError{timeout: call.timeout}}

      left ->
        receive do
        after
          min(pause, left) -> :ok
        end

        if call.load, do: :atomics.add(call.load, 1, 1)

        case transmit(:main, call, call.frame) do
          :ok ->
            await(call, deadline)

          :busy ->
            Table.count_out(call.load)
            send_later(call, deadline, min(pause * 2, @max_send_pause))

          :closed ->
            Table.count_out(call.load)
            crashed(call, deadline)
        end
    end
  end

  # A call on a module by name carries the two names as length-prefixed UTF-8 before
  # the ETF of its arguments: decoding two ETF binaries costs Python more, on the
  # commonest request there is (see CALL_MODULE in docs/PROTOCOL.md).
  defp encode_body(:call, {module, name, args, kwargs})
       when is_binary(module) and byte_size(module) < 256 and byte_size(name) < 256 do
    payload = if kwargs == [], do: args, else: {args, kwargs}

    {:call_module,
     [byte_size(module), module, byte_size(name), name | :erlang.term_to_binary(payload)]}
  end

  defp encode_body(:call, {module, name, args, kwargs}) when is_binary(module),
    do: {:call, :erlang.term_to_binary({Args.module_name(module), name, args, kwargs})}

  defp encode_body(op, body), do: {op, :erlang.term_to_binary(body)}

  defp parent(pool, index) do
    case :erlang.get({:snakebridge_parent, pool, index}) do
      :undefined -> {<<>>, :main}
      {callback_id, channel} -> {<<callback_id::64>>, channel}
    end
  end

  @doc "Writes a frame to the call's worker on `channel` (`:main` or `:control`)."
  @spec transmit(:main | :control, t, iodata) :: :ok | :busy | :closed
  def transmit(:main, call, frame), do: Transport.send_frame(call.transport, frame)
  def transmit(:control, call, frame), do: Transport.send_control(call.transport, frame)

  # The call's frame was not written: its worker's channel is closed.
  defp crashed(call, deadline) do
    Route.forget()
    %{monitor: monitor} = call = watch(call)

    receive do
      {:DOWN, ^monitor, :process, server, reason} ->
        finish(call)
        error = Reply.crash_error(call.pool, call.index, server, reason)
        if call.start == :untracked, do: {:error, error}, else: rerun(call, error, deadline)
    after
      1_000 ->
        finish(call)
        {:error, %WorkerCrashError{reason: "the worker's channel is closed"}}
    end
  end

  # Monitors the call's worker server (see the module comment).
  defp watch(%{monitor: nil} = call),
    do: %{call | monitor: :erlang.monitor(:process, call.server)}

  defp watch(call), do: call

  # The call got its final reply, or its worker is gone.
  defp finish(%{box: box, monitor: monitor}) do
    if is_reference(box), do: :erlang.unalias(box)
    if monitor, do: Process.demonitor(monitor, [:flush])
  end

  # The call is given up while its worker may still answer it.
  defp abandon(%{box: :snakebridge_reply} = call) do
    Transport.abandon(call.transport, call.tag, call.id, &Reply.discard/2)
    finish(call)
  end

  defp abandon(call), do: finish(call)

  defp await(call, deadline), do: await(call, deadline, Route.remaining(deadline))

  # The first wait of a call on the main channel, before its state exists (see
  # send_and_await/9): the answer ends it there; anything else builds the state and
  # goes on as await/3 would.
  defp first_wait(box, id, state, deadline, wait) do
    receive do
      {^box, ^id, kind, payload} when (kind &&& @kind_mask) == @ok ->
        Reply.decoded(kind, payload)

      {^box, ^id, kind, payload} ->
        reply(state.(), kind, payload, deadline)
    after
      min(wait, @watch_after) -> waited(state.(), deadline, wait)
    end
  end

  # `wait` is the time left, in ms; an unwatched call waits at most @watch_after of it
  # before it watches its worker and goes on waiting.
  defp await(%{box: box, id: id, monitor: monitor} = call, deadline, wait) do
    receive do
      {^box, ^id, kind, payload} ->
        reply(call, kind, payload, deadline)

      # The router stops before its server does, so nothing for this call follows.
      {:DOWN, ^monitor, :process, server, reason} ->
        finish(call)
        error = Reply.crash_error(call.pool, call.index, server, reason)
        if never_started?(call, error), do: rerun(call, error, deadline), else: {:error, error}
    after
      if(monitor, do: wait, else: min(wait, @watch_after)) -> waited(call, deadline, wait)
    end
  end

  defp reply(call, kind, payload, deadline) do
    case kind &&& @kind_mask do
      @ok ->
        finish(call)
        Reply.decoded(kind, payload)

      @error ->
        finish(call)

        with {:ok, exception} <- Reply.decoded(kind, payload),
             do: {:error, Reply.error(exception, call.timeout)}

      @callback_kind ->
        case Reply.decoded(kind, payload) do
          {:ok, callback} ->
            Callback.run(call, callback)
            await(call, deadline)

          # Its arguments cannot be read here (e.g. two NaN map keys), so there is
          # no callback id to answer: the Python call is cancelled instead of
          # left waiting, and the caller told why.
          {:error, error} ->
            give_up_with(call, error)
        end

      @started ->
        await(%{call | start: :reported}, deadline)
    end
  end

  # No answer within `wait` ms or @watch_after: watch the worker and wait on, or time out.
  defp waited(%{monitor: monitor} = call, deadline, wait) do
    if monitor == nil and wait > @watch_after,
      do: await(watch(call), deadline),
      else: timed_out(call)
  end

  # A flagged call whose worker died of itself with no :started reply for it (see
  # "Re-running"). The router forwarded a :started reply before the exit report that
  # stopped the server, so it is in the mailbox, ahead of the :DOWN; it is looked for
  # here all the same, in case it came in after this call's last receive.
  defp never_started?(%{start: :awaited, box: box, id: id}, %WorkerCrashError{} = error) do
    receive do
      {^box, ^id, @started, _payload} -> false
    after
      # Its own death, read whole: not one that may have swallowed replies.
      0 -> error.reason == nil and (error.status != nil or error.signal != nil)
    end
  end

  defp never_started?(_call, _error), do: false

  # Routes the call again, to its session's worker (waiting for the replacement within
  # its deadline), and sends it there.
  defp rerun(%{refs: nil} = call, error, deadline) do
    with meta when meta != nil <- Table.lookup(call.pool),
         true <- Route.remaining(deadline) > 0,
         {:ok, index, entry} <- Route.worker(meta, call.session, nil, deadline),
         Entry.ready(server: server, transport: transport, load: load) = entry,
         place when is_atom(place) <- Table.check_in(meta, index, load) do
      start = start(:main, <<>>, place, transport)
      [<<op, flags, header::binary>> | body] = call.frame
      flags = (flags &&& bnot(@report_start)) ||| start_flag(start)

      call = %{
        call
        | server: server,
          transport: transport,
          load: load,
          index: index,
          frame: [<<op, flags, header::binary>> | body],
          start: start,
          monitor: nil
      }

      dispatch(:main, call, deadline, Route.remaining(deadline))
    else
      # The pool has stopped, or the call has no time left to wait.
      falsy when falsy in [nil, false] -> {:error, error}
      {:error, _reason} = refused -> refused
    end
  end

  defp rerun(call, _error, _deadline), do: {:error, Route.worker_lost(call.refs)}

  # Cancel the Python call, asking the worker whether it had started. One still queued
  # behind other calls is skipped when the worker reaches it, so the caller is answered
  # at once and nobody else's call is disturbed. One that had started is interrupted
  # and given the grace period to unwind. A call that ignores the interrupt (a
  # swallowed KeyboardInterrupt), or a worker too wedged to answer at all (a C loop
  # holding the GIL), costs the worker its life: it is killed and replaced.
  defp timed_out(%{on_timeout: :abandon} = call),
    do: give_up_with(call, %TimeoutError{timeout: call.timeout})

  defp timed_out(call) do
    answer = :erlang.alias([:reply])
    header = Header.build(:cancel, Header.flags(:auto), Router.alias_tag(answer), 0, 0, <<>>)
    _ = transmit(:control, call, [header | :erlang.term_to_binary({[call.tag]})])
    await_unwind(watch(call), answer, Route.now_ms() + call.grace)
  end

  # Cancels the Python call and stops waiting for it: its late replies are cleaned up
  # by the router (see abandon/1).
  defp give_up_with(call, error) do
    _ = transmit(:control, call, Header.one_way(:cancel, {[call.tag]}))
    abandon(call)
    {:error, error}
  end

  defp await_unwind(%{box: box, id: id, monitor: monitor} = call, answer, grace_deadline) do
    receive do
      {^box, ^id, kind, payload} when (kind &&& @kind_mask) == @callback_kind ->
        # Arguments that cannot be read here leave no callback id to answer: the
        # interrupt, repeated meanwhile, ends the call all the same. Either way nobody
        # gets the refs the arguments made.
        with {:ok, callback} <- Reply.decoded(kind, payload) do
          Callback.refuse(call, callback, "the call timed out")
          Reply.discard(kind, payload)
        end

        await_unwind(call, answer, grace_deadline)

      {^box, ^id, @started, _payload} ->
        await_unwind(call, answer, grace_deadline)

      {^box, ^id, kind, payload} ->
        finish(call)
        :erlang.unalias(answer)
        Reply.discard(kind, payload)
        {:error, %TimeoutError{timeout: call.timeout}}

      {^answer, :uncounted, _kind, payload} ->
        case :erlang.binary_to_term(payload, [:safe]) do
          :queued ->
            # Skipped when the worker reaches it, and answered then: not waited for.
            abandon(call)
            {:error, %TimeoutError{timeout: call.timeout}}

          :running ->
            await_unwind(call, answer, grace_deadline)
        end

      {:DOWN, ^monitor, :process, _server, _reason} ->
        finish(call)
        :erlang.unalias(answer)
        {:error, %TimeoutError{timeout: call.timeout, worker_restarted: true}}
    after
      min(Route.remaining(grace_deadline), @interrupt_again_after) ->
        if Route.remaining(grace_deadline) > 0 do
          # An interrupt may land where Python ignores it (just before a blocking call
          # begins, or in code that swallows it once): it is repeated until the call
          # ends or the grace period is over.
          _ = transmit(:control, call, Header.one_way(:cancel, {[call.tag]}))
          await_unwind(call, answer, grace_deadline)
        else
          give_up(call, answer)
        end
    end
  end

  defp give_up(%{monitor: monitor} = call, answer) do
    :erlang.unalias(answer)
    WorkerServer.restart(call.server, "a call ignored its cancellation for #{call.grace} ms")

    receive do
      {:DOWN, ^monitor, :process, _server, _reason} -> finish(call)
    after
      5_000 -> abandon(call)
    end

    {:error, %TimeoutError{timeout: call.timeout, worker_restarted: true}}
  end

  defp too_large(size, max_frame) do
    %EncodeError{
      path: "request",
      value: nil,
      reason: "the request is #{size} bytes, above the :max_frame limit of #{max_frame} bytes"
    }
  end
end
