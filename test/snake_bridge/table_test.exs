defmodule SnakeBridge.TableTest do
  # A ready entry is retired whenever it leaves its slot, since callers keep copies of
  # it (SnakeBridge.Call.Route). The pools here are facts alone: no worker runs.
  use ExUnit.Case, async: true

  require SnakeBridge.Pool.Entry
  alias SnakeBridge.Pool.{Entry, Table}

  setup context do
    pool = :"table_test_#{context.line}"

    Table.publish(%{
      name: pool,
      size: 2,
      max_queue: 10,
      max_frame: 1_000_000,
      timeout: 1_000,
      kill_grace: 100,
      output: :logger
    })

    on_exit(fn -> :persistent_term.erase({Table, pool}) end)
    %{pool: pool}
  end

  defp ready(server \\ self()) do
    Entry.ready(server: server, transport: nil, incarnation: 1, load: Table.new_load())
  end

  test "an entry replaced in its slot is retired; the new one is not", %{pool: pool} do
    Entry.ready(load: first_load) = first = ready()
    Table.put_entry(pool, 0, first)
    refute Table.retired?(first_load)

    Entry.ready(load: second_load) = second = ready()
    Table.put_entry(pool, 0, second)
    assert Table.retired?(first_load)
    refute Table.retired?(second_load)

    # A state that is not ready replaces it the same way.
    Table.put_entry(pool, 0, {:starting, self()})
    assert Table.retired?(second_load)
  end

  test "an entry updated in place, its counter kept, stays in use", %{pool: pool} do
    Entry.ready(load: load) = entry = ready()
    Table.put_entry(pool, 0, entry)
    Table.put_entry(pool, 0, Entry.ready(entry, incarnation: 2))
    refute Table.retired?(load)
  end

  test "an entry removed by its server is retired, not one removed by another", %{pool: pool} do
    Entry.ready(load: load) = entry = ready()
    Table.put_entry(pool, 1, entry)

    Table.delete_entry(pool, 1, spawn(fn -> :ok end))
    refute Table.retired?(load)
    assert Table.entry(pool, 1) == entry

    Table.delete_entry(pool, 1, self())
    assert Table.retired?(load)
    assert Table.entry(pool, 1) == :absent
  end

  test "a pool that stops retires the entries left in its slots", %{pool: pool} do
    Entry.ready(load: load) = entry = ready()
    Table.put_entry(pool, 1, entry)

    assert Table.unpublish(pool)
    assert Table.retired?(load)
    assert Table.lookup(pool) == nil
  end

  test "a pool killed outright, its table gone, is still forgotten", %{pool: pool} do
    # The table dies with the process that made it, as a pool's dies with its supervisor.
    owner = Task.async(fn -> Table.publish(%{Table.meta(pool) | name: :"#{pool}_killed"}) end)
    %{table: table} = Task.await(owner)
    assert :ets.info(table) == :undefined

    assert Table.unpublish(:"#{pool}_killed")
    assert Table.lookup(:"#{pool}_killed") == nil
  end
end
