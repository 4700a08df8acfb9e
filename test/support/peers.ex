defmodule SnakeBridge.Test.Peers do
  @moduledoc false
  # Real extra BEAM nodes for the remote-pool tests (OTP's :peer), on this host, with
  # this VM's code path and SnakeBridge started (no pools of their own). The test VM
  # becomes distributed itself first.

  @doc "Makes this VM a distributed node (longnames on 127.0.0.1), once."
  def distribute! do
    unless Node.alive?() do
      {_, 0} = System.cmd("epmd", ["-daemon"])
      name = :"snakebridge_test_#{System.pid()}@127.0.0.1"
      {:ok, _} = Node.start(name, :longnames)
    end

    :ok
  end

  @doc """
  Starts a peer named `name` (unique to this VM) with SnakeBridge running; returns
  `{peer, node}`. The peer is controlled over its standard I/O, so cutting its
  distribution connection (a partition) leaves it running.
  """
  def start!(name) do
    distribute!()

    {:ok, peer, node} =
      :peer.start(%{
        name: :"#{name}_#{System.pid()}",
        host: ~c"127.0.0.1",
        longnames: true,
        connection: :standard_io,
        args: [~c"-setcookie", Atom.to_charlist(Node.get_cookie()), ~c"-connect_all", ~c"false"]
      })

    :ok = :peer.call(peer, :code, :add_paths, [:code.get_path()])
    :ok = :peer.call(peer, Application, :put_env, [:snakebridge, :pools, []])
    {:ok, _} = :peer.call(peer, Application, :ensure_all_started, [:snakebridge])
    # Its worker warnings (a worker replaced on purpose) would clutter the test output.
    :ok = :peer.call(peer, Logger, :configure, [[level: :error]])
    true = Node.connect(node)
    {peer, node}
  end

  @doc "Kills a peer's OS process outright (no clean shutdown), and waits until it is gone."
  def kill!(peer) do
    os_pid = :peer.call(peer, System, :pid, [])
    {_, 0} = System.cmd("kill", ["-9", os_pid])
    wait_until(fn -> not File.exists?("/proc/#{os_pid}") end)
  end

  @doc "Stops a peer if it is still running."
  def stop(peer) do
    :peer.stop(peer)
  catch
    :exit, _ -> :ok
  end

  @doc "Polls `fun` every 20 ms until it returns a truthy value (at most `timeout` ms)."
  def wait_until(fun, timeout \\ 10_000) do
    case fun.() do
      falsy when falsy in [nil, false] ->
        if timeout <= 0, do: raise("condition not met in time")
        Process.sleep(20)
        wait_until(fun, timeout - 20)

      result ->
        result
    end
  end
end
