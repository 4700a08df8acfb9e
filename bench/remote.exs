# Pools on other nodes (Erlang distribution), against floors measured in the same run:
#
#     taskset -c 0 mix run bench/remote.exs latency      # pinned: small calls
#     mix run bench/remote.exs throughput                # not pinned: needs both cores
#     mix run bench/remote.exs bulk                      # not pinned
#
# The extra nodes are real :peer nodes on this host (test/support/peers.ex), each
# running SnakeBridge with a remote pool's single worker.
#
#   * latency: SnakeBridge.call("math", "sqrt", [16]) to a worker on node b, against
#     its floor, a bare :erpc.call(b, :erlang, :node, []), and a local call on this
#     node; goal: remote ≤ 1.5 × (floor + local), medians;
#   * throughput: 8 processes making CPU-bound calls (sum(range(200000))) on a pool of
#     one worker on node b, and on a pool spread over nodes b and c (one worker each);
#   * bulk: a 100 MB random binary's round trip to the worker on node b
#     (builtins.bytes), in MB/s, against the same binary echoed through :erpc; and,
#     for context, the same round trip to a worker on this node.
Code.require_file("bench_helper.exs", __DIR__)
Code.require_file("../test/support/peers.ex", __DIR__)

alias SnakeBridge.Test.Peers

mode = System.argv() |> List.first() |> Kernel.||("latency") |> String.to_atom()
{peer_b, b} = Peers.start!(:bench_b)

start_pool = fn opts ->
  {:ok, _} = SnakeBridge.Pool.start_link(opts ++ [timeout: :infinity])
  # The first call waits for the far worker to start.
  {:ok, _} = SnakeBridge.call("math", "sqrt", [1], [], pool: opts[:name])
end

result =
  case mode do
    :latency ->
      start_pool.(name: :far, node: b, size: 1)
      floor = fn -> ^b = :erpc.call(b, :erlang, :node, []) end
      local = fn -> {:ok, 4.0} = SnakeBridge.call("math", "sqrt", [16]) end
      remote = fn -> {:ok, 4.0} = SnakeBridge.call("math", "sqrt", [16], [], pool: :far) end

      for _ <- 1..3_000, do: Enum.each([floor, local, remote], & &1.())

      samples = BenchHelper.interleaved([floor: floor, local: local, remote: remote], 30, 500)

      stats = Map.new(samples, fn {name, ns} -> {name, BenchHelper.summary(ns)} end)
      budget = stats.floor.median + stats.local.median
      ratio = Float.round(stats.remote.median / budget, 3)

      IO.puts("""
      :erpc.call(b, :erlang, :node, []) (floor): median #{BenchHelper.us(stats.floor.median)} µs  p99 #{BenchHelper.us(stats.floor.p99)} µs
      local call math.sqrt:                      median #{BenchHelper.us(stats.local.median)} µs  p99 #{BenchHelper.us(stats.local.p99)} µs
      remote call math.sqrt (node b):            median #{BenchHelper.us(stats.remote.median)} µs  p99 #{BenchHelper.us(stats.remote.p99)} µs
      remote / (floor + local): #{ratio}  (goal ≤ 1.5)
      remote / floor:           #{Float.round(stats.remote.median / stats.floor.median, 3)}
      """)

      %{
        command: "taskset -c 0 mix run bench/remote.exs latency",
        floor_erpc_ns: stats.floor,
        local_call_ns: stats.local,
        remote_call_ns: stats.remote,
        ratio_remote_over_floor_plus_local: ratio,
        goal: "≤ 1.5"
      }

    :throughput ->
      {peer_c, c} = Peers.start!(:bench_c)
      start_pool.(name: :one_node, node: b, size: 1)
      start_pool.(name: :two_nodes, nodes: [b, c], size: 1)
      processes = 8
      calls = 10
      expected = div(199_999 * 200_000, 2)

      round = fn pool ->
        BenchHelper.time_ns(fn ->
          1..processes
          |> Enum.map(fn _ ->
            Task.async(fn ->
              for _ <- 1..calls,
                  do: {:ok, ^expected} = SnakeBridge.eval("sum(range(200000))", %{}, pool: pool)
            end)
          end)
          |> Task.await_many(:infinity)
        end)
      end

      for _ <- 1..2, pool <- [:one_node, :two_nodes], do: round.(pool)

      samples =
        Enum.reduce(1..8, %{one_node: [], two_nodes: []}, fn _, acc ->
          Enum.reduce([:one_node, :two_nodes], acc, fn pool, acc ->
            Map.update!(acc, pool, &[round.(pool) | &1])
          end)
        end)

      stats = Map.new(samples, fn {pool, ns} -> {pool, BenchHelper.summary(ns)} end)
      rate = fn pool -> Float.round(processes * calls / (stats[pool].median / 1.0e9), 1) end
      speedup = Float.round(stats.one_node.median / stats.two_nodes.median, 3)

      IO.puts("""
      one node, 1 worker:        #{rate.(:one_node)} calls/s
      two nodes, 1 worker each:  #{rate.(:two_nodes)} calls/s
      speedup: #{speedup}  (2 cores shared by both peers' Python workers and this VM)
      """)

      Peers.stop(peer_c)

      %{
        command: "mix run bench/remote.exs throughput",
        processes: processes,
        calls_per_process: calls,
        one_node_round_ns: stats.one_node,
        two_nodes_round_ns: stats.two_nodes,
        one_node_calls_per_s: rate.(:one_node),
        two_nodes_calls_per_s: rate.(:two_nodes),
        speedup: speedup
      }

    :bulk ->
      start_pool.(name: :far, node: b, size: 1)
      size = 100_000_000
      payload = :crypto.strong_rand_bytes(size)
      bytes = SnakeBridge.bytes(payload)

      erpc = fn -> true = :erpc.call(b, Function, :identity, [payload]) == payload end

      remote = fn ->
        {:ok, %SnakeBridge.Bytes{data: data}} =
          SnakeBridge.call("builtins", "bytes", [bytes], [], pool: :far)

        true = byte_size(data) == size
      end

      # For context: the same round trip to a worker on this node (the pipe's share).
      local = fn ->
        {:ok, %SnakeBridge.Bytes{data: data}} = SnakeBridge.call("builtins", "bytes", [bytes])
        true = byte_size(data) == size
      end

      for _ <- 1..2, do: Enum.each([erpc, remote, local], & &1.())
      samples = BenchHelper.interleaved([erpc: erpc, remote: remote, local: local], 5, 2)
      stats = Map.new(samples, fn {name, ns} -> {name, BenchHelper.summary(ns)} end)
      mb_s = fn name -> Float.round(size / 1.0e6 / (stats[name].median / 1.0e9), 1) end
      ratio = Float.round(mb_s.(:remote) / mb_s.(:erpc), 3)

      IO.puts("""
      100 MB echoed through :erpc (floor): #{mb_s.(:erpc)} MB/s
      100 MB round trip to the remote worker: #{mb_s.(:remote)} MB/s
      remote / floor: #{ratio}
      (context) 100 MB round trip to a local worker: #{mb_s.(:local)} MB/s
      """)

      %{
        command: "mix run bench/remote.exs bulk",
        payload_bytes: size,
        erpc_echo_ns: stats.erpc,
        remote_round_trip_ns: stats.remote,
        erpc_mb_s: mb_s.(:erpc),
        remote_mb_s: mb_s.(:remote),
        local_round_trip_ns: stats.local,
        local_mb_s: mb_s.(:local),
        ratio: ratio
      }
  end

Peers.stop(peer_b)
# The machine is shared: its load during the run says how much to trust the figures.
load = File.read!("/proc/loadavg") |> String.split() |> Enum.take(3) |> Enum.join(" ")

BenchHelper.record(
  "remote_#{mode}",
  Map.merge(result, %{machine: BenchHelper.machine(), load_average: load})
)
