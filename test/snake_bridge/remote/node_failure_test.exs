defmodule SnakeBridge.Remote.NodeFailureTest do
  # Remote pools when nodes go away: a node killed mid-call, a partition, the pool
  # rejoining, and a far node without SnakeBridge. Real :peer nodes and real Python.
  use ExUnit.Case, async: false

  @moduletag :remote
  @moduletag :soak
  @moduletag timeout: 90_000
  # Reconnection attempts log errors while a node is coming back.
  @moduletag :capture_log

  require SnakeBridge.Pool.Entry
  alias SnakeBridge.{Pool, RefError, Session, WorkerCrashError}
  alias SnakeBridge.Pool.{Entry, Table}
  alias SnakeBridge.Test.Peers

  setup do
    Peers.distribute!()
    :ok
  end

  defp ready?(pool, index), do: Entry.ready?(Table.entry(pool, index))

  defp incarnation(pool, index) do
    Entry.ready(incarnation: incarnation) = Table.entry(pool, index)
    incarnation
  end

  test "a node killed mid-call: the call fails, its refs give :node_down, ref-less calls " <>
         "move to the remaining node, and the pool rejoins when the node is back" do
    {peer_b, b} = Peers.start!(:sb_spread_b)
    {peer_c, c} = Peers.start!(:sb_spread_c)
    on_exit(fn -> Enum.each([peer_b, peer_c], &Peers.stop/1) end)

    # Workers interleave over the nodes: index 0 on b, index 1 on c.
    start_supervised!({Pool, name: :spread, nodes: [b, c], size: 1})
    Peers.wait_until(fn -> ready?(:spread, 0) and ready?(:spread, 1) end, 30_000)

    # A session bound to c's worker, and a ref held there.
    on_c = Session.new(:spread, 1)

    doomed =
      SnakeBridge.use_session(on_c, fn ->
        SnakeBridge.call!("collections", "Counter", ["ab"], [], pool: :spread)
      end)

    assert doomed.worker == {:spread, 1, incarnation(:spread, 1)}

    in_flight =
      Task.async(fn ->
        SnakeBridge.use_session(on_c, fn ->
          SnakeBridge.call("time", "sleep", [30], [], pool: :spread)
        end)
      end)

    # The call is running on c when c dies.
    Peers.wait_until(fn -> Table.in_flight(Table.meta(:spread), 1) == 1 end)
    Peers.kill!(peer_c)

    assert {:error, %WorkerCrashError{node: ^c} = error} = Task.await(in_flight, 10_000)
    assert Exception.message(error) =~ "#{c}"
    assert {:error, %RefError{reason: :node_down}} = SnakeBridge.to_elixir(doomed)

    # A ref-less call in the session bound to c runs on b meanwhile.
    assert SnakeBridge.use_session(on_c, fn ->
             SnakeBridge.call("math", "sqrt", [9], [], pool: :spread)
           end) == {:ok, 3.0}

    # New sessions avoid the failed worker.
    assert SnakeBridge.session(fn -> SnakeBridge.call("math", "sqrt", [16], [], pool: :spread) end) ==
             {:ok, 4.0}

    # c comes back under the same name: its worker rejoins the pool.
    {peer_c2, ^c} = Peers.start!(:sb_spread_c)
    on_exit(fn -> Peers.stop(peer_c2) end)
    Peers.wait_until(fn -> ready?(:spread, 1) end, 30_000)

    assert SnakeBridge.use_session(on_c, fn ->
             SnakeBridge.call("math", "sqrt", [25], [], pool: :spread)
           end) == {:ok, 5.0}

    # The old ref stays gone: its objects died with the node.
    assert {:error, %RefError{reason: :node_down}} = SnakeBridge.to_elixir(doomed)
  end

  test "a partition (the node disconnected): refs give :node_down, then the pool rejoins" do
    {peer, b} = Peers.start!(:sb_partition_b)
    on_exit(fn -> Peers.stop(peer) end)
    start_supervised!({Pool, name: :cut, node: b, size: 1})
    Peers.wait_until(fn -> ready?(:cut, 0) end, 30_000)

    ref = SnakeBridge.call!("collections", "Counter", ["abc"], [], pool: :cut)
    before = incarnation(:cut, 0)
    far_python = SnakeBridge.call!("os", "getpid", [], [], pool: :cut)

    true = Node.disconnect(b)

    # The far node stopped the worker it ran for this node: nothing is left behind.
    Peers.wait_until(fn -> not File.exists?("/proc/#{far_python}") end)
    assert {:error, %RefError{reason: :node_down}} = SnakeBridge.to_elixir(ref)

    # The node is still up: the pool reconnects and starts a new incarnation there.
    Peers.wait_until(fn -> ready?(:cut, 0) and incarnation(:cut, 0) != before end, 30_000)
    assert SnakeBridge.call("math", "sqrt", [36], [], pool: :cut) == {:ok, 6.0}
    assert {:error, %RefError{reason: :node_down}} = SnakeBridge.to_elixir(ref)
  end

  test "a far node without SnakeBridge started gives a clear error" do
    {:ok, peer, node} =
      :peer.start(%{
        name: :"sb_bare_#{System.pid()}",
        host: ~c"127.0.0.1",
        longnames: true,
        connection: :standard_io,
        args: [~c"-setcookie", Atom.to_charlist(Node.get_cookie())]
      })

    on_exit(fn -> Peers.stop(peer) end)
    true = Node.connect(node)

    start_supervised!({Pool, name: :bare, node: node, size: 1})

    Peers.wait_until(fn -> match?({:failed, _, _}, Table.entry(:bare, 0)) end)

    assert {:error, %WorkerCrashError{} = error} =
             SnakeBridge.call("math", "sqrt", [1], [], pool: :bare)

    assert Exception.message(error) =~ "does not have SnakeBridge"

    :ok = :peer.call(peer, :code, :add_paths, [:code.get_path()])

    Peers.wait_until(fn ->
      match?(
        {:failed, _, %{reason: "SnakeBridge is loaded but not started" <> _}},
        Table.entry(:bare, 0)
      )
    end)
  end
end
