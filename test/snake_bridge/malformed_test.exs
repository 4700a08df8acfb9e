defmodule SnakeBridge.MalformedTest do
  # Forged and corrupted refs, sessions and structs: each gets a clear error at once,
  # before anything reaches Python, and never another object's value.
  use ExUnit.Case, async: true

  alias SnakeBridge.{EncodeError, RefError}

  setup_all do
    {:ok, ref} = SnakeBridge.eval("[1, 2]", %{}, return: :ref)
    %{ref: ref}
  end

  describe "a malformed ref" do
    for {name, kind} <- [
          {"a negative session", :negative_session},
          {"a session over 64 bits", :huge_session},
          {"a worker that is an atom", :atom_worker},
          {"a worker index outside the pool", :index_outside},
          {"an id that is not a binary", :integer_id}
        ] do
      test "with #{name} is refused, as an argument and as a target", %{ref: ref} do
        bad = corrupt(ref, unquote(kind))
        assert {:error, %RefError{reason: :unknown}} = SnakeBridge.eval("x", %{"x" => bad})
        assert {:error, %RefError{reason: :unknown}} = SnakeBridge.to_elixir(bad)
        assert {:error, %RefError{reason: :unknown}} = SnakeBridge.call(bad, "copy")
        assert {:error, %RefError{reason: :unknown}} = SnakeBridge.attr(bad, "real")
        # The real one is untouched.
        assert SnakeBridge.to_elixir(ref) == {:ok, [1, 2]}
      end
    end

    defp corrupt(ref, :negative_session), do: %{ref | session: -1}
    defp corrupt(ref, :huge_session), do: %{ref | session: Integer.pow(2, 70)}
    defp corrupt(ref, :atom_worker), do: %{ref | worker: :foo}
    defp corrupt(ref, :index_outside), do: %{ref | worker: put_elem(ref.worker, 1, 1_000)}
    defp corrupt(ref, :integer_id), do: %{ref | id: 42}

    test "of a pool that is not running is lost", %{ref: ref} do
      bad = %{ref | worker: put_elem(ref.worker, 0, :no_such_pool)}
      assert {:error, %RefError{reason: :worker_lost}} = SnakeBridge.to_elixir(bad)
      assert {:error, %RefError{reason: :worker_lost}} = SnakeBridge.call(bad, "copy")
    end
  end

  test "a session naming a worker outside its pool is refused at once, even with :infinity" do
    {:ok, session} = SnakeBridge.open_session()
    forged = %{session | worker: 1_000}

    task = Task.async(fn -> SnakeBridge.eval("1", %{}, session: forged, timeout: :infinity) end)

    assert {:error, %RefError{reason: :unknown}} = Task.await(task, 10_000)
  end

  test "a forged MapSet is an EncodeError" do
    forged = %MapSet{map: :not_a_map}
    assert {:error, %EncodeError{}} = SnakeBridge.eval("x", %{"x" => forged})
  end

  test "a map posing as a segment (a string __struct__, as JSON gives) is an EncodeError" do
    forged = %{__struct__: "Elixir.SnakeBridge.Shm", path: "/dev/shm/x", size: 1, offset: 0}

    assert {:error, %EncodeError{reason: reason}} = SnakeBridge.eval("x", %{"x" => forged})
    assert reason =~ "not a struct"
  end

  test "an unknown pool is an ArgumentError (a wrong option, not a ref)" do
    assert_raise ArgumentError, ~r/no SnakeBridge pool named :nope/, fn ->
      SnakeBridge.eval("1", %{}, pool: :nope)
    end
  end
end
