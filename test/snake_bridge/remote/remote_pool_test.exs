defmodule SnakeBridge.Remote.RemotePoolTest do
  # A pool whose worker runs on another node (a real :peer node with SnakeBridge and
  # real Python): the call path is the same as for a local worker.
  use ExUnit.Case, async: false

  @moduletag :remote
  @moduletag :soak
  @moduletag timeout: 60_000

  require SnakeBridge.Pool.Entry
  alias SnakeBridge.{Pool, Ref, RefError, Session, TimeoutError}
  alias SnakeBridge.Pool.{Entry, Table, Transport}
  alias SnakeBridge.Test.Peers

  setup_all do
    {peer, node} = Peers.start!(:sb_remote_b)
    on_exit(fn -> Peers.stop(peer) end)
    {:ok, _} = Pool.start_link(name: :far, node: node, size: 1, kill_grace: 300)
    Peers.wait_until(fn -> Entry.ready?(Table.entry(:far, 0)) end, 30_000)
    %{peer: peer, node: node}
  end

  defp opts, do: [pool: :far]

  defp parent(os_pid) do
    [_, ppid] = Regex.run(~r/PPid:\s+(\d+)/, File.read!("/proc/#{os_pid}/status"))
    ppid
  end

  test "the worker's Python process runs on the far node", %{peer: peer, node: node} do
    Entry.ready(transport: transport) = Table.entry(:far, 0)
    assert Transport.node(transport) == node
    # It shares this VM's /dev/shm: it read back the probe written here.
    assert transport.same_host?
    assert Path.wildcard(Path.join(SnakeBridge.Shm.directory(), "probe-*")) == []

    # The worker's parent is the nanny, spawned by the far VM's port helper
    # (erl_child_setup), a child of the far VM.
    nanny = SnakeBridge.call!("os", "getppid", [], [], opts())
    assert nanny |> parent() |> parent() == :peer.call(peer, System, :pid, [])
  end

  test "calls, refs, methods, attributes and eval" do
    assert SnakeBridge.call("math", "sqrt", [16], [], opts()) == {:ok, 4.0}

    counter = SnakeBridge.call!("collections", "Counter", ["abracadabra"], [], opts())
    assert %Ref{worker: {:far, 0, _}} = counter
    assert SnakeBridge.method!(counter, "most_common", [1]) == [{"a", 5}]
    assert SnakeBridge.attr!(counter, "total") |> is_struct(Ref)
    assert SnakeBridge.eval!("c['b'] * 10", %{c: counter}, opts()) == 20
  end

  test "streams a generator" do
    gen = SnakeBridge.eval!("(i * i for i in range(1000))", %{}, opts())
    assert Enum.sum(SnakeBridge.stream(gen)) == Enum.sum(for i <- 0..999, do: i * i)
  end

  test "callbacks run in the calling process, on the calling node, nested calls included" do
    me = self()

    key = fn word ->
      send(me, {:ran_in, self(), node()})
      # A nested call to the same remote worker while it waits for this callback.
      SnakeBridge.call!("builtins", "len", [word], [], pool: :far)
    end

    assert SnakeBridge.call("builtins", "sorted", [["bb", "a", "ccc"]], [key: key], opts()) ==
             {:ok, ["a", "bb", "ccc"]}

    assert_received {:ran_in, pid, node}
    assert pid == self() and node == node()
  end

  test "a callback Python makes from its own thread after the call returned runs here" do
    me = self()
    code = "import threading\nthreading.Timer(0.05, f, ['late']).start()"

    assert SnakeBridge.eval!(code, %{f: fn word -> send(me, {:late, word, node()}) end}, opts()) ==
             nil

    assert_receive {:late, "late", node}, 5_000
    assert node == node()
  end

  test "with_python enters and exits a context manager on the far worker" do
    lock = SnakeBridge.call!("threading", "Lock", [], [], opts())
    assert SnakeBridge.with_python(lock, fn _ -> SnakeBridge.method!(lock, "locked") end)
    refute SnakeBridge.method!(lock, "locked")
  end

  test "large binaries travel both ways" do
    payload = :crypto.strong_rand_bytes(3_000_000)

    assert SnakeBridge.call!("builtins", "bytes", [SnakeBridge.bytes(payload)], [], opts()) ==
             %SnakeBridge.Bytes{data: payload}
  end

  test "between hosts, a request's segment files travel with it (written there by the relay)" do
    # Both nodes are on this host: the worker's transport is made to act as between
    # hosts, and the shared-memory threshold lowered so the request has a file.
    Entry.ready(transport: transport) = entry = Table.entry(:far, 0)
    Table.put_entry(:far, 0, Entry.ready(entry, transport: %{transport | same_host?: false}))
    Application.put_env(:snakebridge, :shm_threshold, 1_000_000)
    :persistent_term.erase({SnakeBridge.Shm, :threshold})

    on_exit(fn ->
      Table.put_entry(:far, 0, entry)
      Application.delete_env(:snakebridge, :shm_threshold)
      :persistent_term.erase({SnakeBridge.Shm, :threshold})
    end)

    payload = :crypto.strong_rand_bytes(2_000_000)

    # The caller deletes its copy as it sends it, so the worker can only have read the
    # one the relay wrote.
    assert SnakeBridge.call!("builtins", "bytes", [SnakeBridge.bytes(payload)], [], opts()) ==
             %SnakeBridge.Bytes{data: payload}

    assert Path.wildcard(Path.join(SnakeBridge.Shm.directory(), "*")) == []
  end

  # A pool of one far worker whose transport acts as between hosts, with a threshold
  # low enough for a 2 MB binary to go as a segment file; its options, the worker's OS
  # pid, a call that keeps it busy, and the segment directory's files.
  defp relayed_pool(node, name) do
    start_supervised!({Pool, name: name, node: node, size: 1})
    Peers.wait_until(fn -> Entry.ready?(Table.entry(name, 0)) end, 30_000)
    Entry.ready(transport: transport) = entry = Table.entry(name, 0)
    Table.put_entry(name, 0, Entry.ready(entry, transport: %{transport | same_host?: false}))
    Application.put_env(:snakebridge, :shm_threshold, 1_000_000)
    :persistent_term.erase({SnakeBridge.Shm, :threshold})

    on_exit(fn ->
      Application.delete_env(:snakebridge, :shm_threshold)
      :persistent_term.erase({SnakeBridge.Shm, :threshold})
    end)

    opts = [pool: name, timeout: :infinity]
    os_pid = SnakeBridge.call!("os", "getpid", [], [], opts)
    busy = Task.async(fn -> SnakeBridge.call("time", "sleep", [30], [], opts) end)
    Peers.wait_until(fn -> hd(SnakeBridge.stats(name).per_worker).pending == 1 end)
    {opts, os_pid, busy, Path.join(SnakeBridge.Shm.directory(), "*")}
  end

  # The relay has written the queued request's segment on the far host (the same one
  # here): the caller's own copy, seen first, is gone by then.
  defp await_relayed(segments) do
    Peers.wait_until(fn -> Path.wildcard(segments) != [] end)
    Process.sleep(200)
    Peers.wait_until(fn -> Path.wildcard(segments) != [] end)
  end

  @tag :capture_log
  test "between hosts, a segment the far worker never read is deleted there when its call ends",
       %{node: node} do
    {opts, os_pid, busy, segments} = relayed_pool(node, :far_relay)
    bytes = SnakeBridge.bytes(:crypto.strong_rand_bytes(2_000_000))

    # The worker dies before it reads the segment. The call is made here, by a process
    # that lives on (a dead caller's files go another way, see the next test).
    killer =
      Task.async(fn ->
        await_relayed(segments)
        System.cmd("kill", ["-9", to_string(os_pid)])
      end)

    assert {:error, %SnakeBridge.WorkerCrashError{}} =
             SnakeBridge.call("builtins", "len", [bytes], [], opts)

    Task.await(killer)
    assert {:error, %SnakeBridge.WorkerCrashError{}} = Task.await(busy)
    Peers.wait_until(fn -> Path.wildcard(segments) == [] end, 5_000)
  end

  test "between hosts, a caller that dies mid-call takes its relayed segments with it",
       %{node: node} do
    {opts, _os_pid, _busy, segments} = relayed_pool(node, :far_relay_caller)
    bytes = SnakeBridge.bytes(:crypto.strong_rand_bytes(2_000_000))
    caller = spawn(fn -> SnakeBridge.call("builtins", "len", [bytes], [], opts) end)
    await_relayed(segments)
    Process.exit(caller, :kill)
    Peers.wait_until(fn -> Path.wildcard(segments) == [] end, 5_000)
  end

  test "a timeout interrupts the remote Python call: the worker is free at once" do
    Entry.ready(incarnation: incarnation) = Table.entry(:far, 0)

    assert {:error, %TimeoutError{worker_restarted: false}} =
             SnakeBridge.call("time", "sleep", [30], [], pool: :far, timeout: 200)

    # Had it only been abandoned, the worker would still be sleeping.
    assert SnakeBridge.call("math", "sqrt", [4], [], pool: :far, timeout: 5_000) == {:ok, 2.0}
    assert Entry.ready(incarnation: ^incarnation) = Table.entry(:far, 0)
  end

  test "a call that ignores its cancellation costs the far worker: replaced, refs lost" do
    kept = SnakeBridge.call!("collections", "Counter", ["ab"], [], opts())

    stubborn = """
    import time
    while True:
        try:
            time.sleep(10)
        except KeyboardInterrupt:
            pass
    """

    # The pool's :kill_grace is 300 ms (setup_all).
    assert {:error, %TimeoutError{worker_restarted: true}} =
             SnakeBridge.eval(stubborn, %{}, pool: :far, timeout: 200)

    assert {:error, %RefError{reason: :worker_lost}} = SnakeBridge.to_elixir(kept)
    assert SnakeBridge.call("math", "sqrt", [9], [], pool: :far, timeout: 30_000) == {:ok, 3.0}
    Peers.wait_until(fn -> Entry.ready?(Table.entry(:far, 0)) end, 30_000)
  end

  @tag :capture_log
  test "a lying frame header ends the far worker (its relay frames the port) and no other",
       %{node: node} do
    start_supervised!({Pool, name: :far_liar, node: node, size: 1, max_frame: 1_000_000})
    Peers.wait_until(fn -> Entry.ready?(Table.entry(:far_liar, 0)) end, 30_000)
    kept = SnakeBridge.call!("collections", "Counter", ["ab"], [], opts())
    lie = "import os\nos.write(4, b'\\xff\\xff\\xff\\xf0')\n'done'"

    assert {:error, %SnakeBridge.WorkerCrashError{reason: reason}} =
             SnakeBridge.eval(lie, %{}, pool: :far_liar, timeout: :infinity)

    assert reason =~ "declaring 4294967280 bytes, above :max_frame (1000000 bytes)"

    assert SnakeBridge.call("math", "sqrt", [9], [], pool: :far_liar, timeout: 30_000) ==
             {:ok, 3.0}

    assert SnakeBridge.method!(kept, "most_common", [1]) == [{"a", 1}]
  end

  test "a pool spread over this node and another: a call mixing their refs is refused",
       %{node: node} do
    start_supervised!({Pool, name: :both, nodes: [node(), node], size: 1})

    Peers.wait_until(
      fn -> Entry.ready?(Table.entry(:both, 0)) and Entry.ready?(Table.entry(:both, 1)) end,
      30_000
    )

    Entry.ready(transport: near_transport) = Table.entry(:both, 0)
    assert Transport.node(near_transport) == node()

    session = fn index ->
      SnakeBridge.use_session(Session.new(:both, index), fn ->
        SnakeBridge.call!("collections", "Counter", ["ab"], [], pool: :both)
      end)
    end

    near = session.(0)
    far = session.(1)
    assert {:both, 0, _} = near.worker
    assert {:both, 1, _} = far.worker
    assert {:error, %RefError{reason: :cross_worker}} = SnakeBridge.method(far, "update", [near])
    assert SnakeBridge.method!(near, "most_common", [1]) == [{"a", 1}]
  end

  test "a caller killed on this node releases its refs on the far node within a second" do
    me = self()

    caller =
      spawn(fn ->
        refs = for _ <- 1..5, do: SnakeBridge.call!("collections", "Counter", ["xy"], [], opts())
        send(me, {:holding, length(refs)})
        Process.sleep(:infinity)
      end)

    assert_receive {:holding, 5}, 10_000
    assert SnakeBridge.stats(:far).refs >= 5
    Process.exit(caller, :kill)
    Peers.wait_until(fn -> SnakeBridge.stats(:far).refs == 0 end, 1_000)
  end

  test "pool options: :node and :nodes are checked" do
    assert_raise ArgumentError, ~r/expected :node or :nodes, not both/, fn ->
      Pool.config(node: :a@b, nodes: [:c@d])
    end

    assert_raise ArgumentError, ~r/expected :nodes to be a non-empty list/, fn ->
      Pool.config(nodes: [])
    end

    assert %{size: 4, nodes: [:a@h, :b@h]} = Pool.config(nodes: [:a@h, :b@h], size: 2)
  end
end
