defmodule SnakeBridge.IterationTest do
  use ExUnit.Case, async: true

  alias SnakeBridge.{PythonError, Ref}

  @moduletag :tmp_dir

  # A generator over range(n) that records in `log` (a list ref) each item it produces
  # and, in its finally block, "closed".
  @logged_gen """
  def gen(log, n):
      try:
          for i in range(n):
              log.append(i)
              yield i
      finally:
          log.append("closed")
  gen(log, n)
  """

  defp logged_gen(n) do
    log = SnakeBridge.eval!("[]", %{}, return: :ref)
    {SnakeBridge.eval!(@logged_gen, %{log: log, n: n}), log}
  end

  defp py_list(ref), do: SnakeBridge.to_elixir!(ref)

  # An iterable whose iterators are tracked in a WeakSet: `live` counts those Python
  # still keeps alive (the registry holds the one an Elixir stream uses).
  @tracked """
  import weakref

  class Counting:
      def __init__(self):
          self.i = 0
      def __iter__(self):
          return self
      def __next__(self):
          self.i += 1
          return self.i

  class Tracked:
      def __init__(self):
          self.live = weakref.WeakSet()
      def __iter__(self):
          iterator = Counting()
          self.live.add(iterator)
          return iterator

  Tracked()
  """

  defp live_iterators(tracked), do: SnakeBridge.eval!("len(t.live)", %{t: tracked})

  describe "Enumerable over refs" do
    test "Enum.take, Enum.to_list and Enum.reduce over a generator" do
      code = "def g():\n    for i in range(10):\n        yield i * i\ng()"
      assert SnakeBridge.eval!(code) |> Enum.take(3) == [0, 1, 4]
      assert SnakeBridge.eval!(code) |> Enum.to_list() == Enum.map(0..9, &(&1 * &1))
      assert SnakeBridge.eval!(code) |> Enum.reduce(0, &+/2) == 285
    end

    test "Stream.map |> Enum.take is lazy over a generator" do
      gen = SnakeBridge.eval!("def g():\n    yield from range(100)\ng()")
      assert gen |> Stream.map(&(&1 * 10)) |> Enum.take(4) == [0, 10, 20, 30]
    end

    test "an iterator" do
      iterator = SnakeBridge.call!("builtins", "iter", [["a", "b", "c"]])
      assert %Ref{type: "list_iterator"} = iterator
      assert Enum.to_list(iterator) == ["a", "b", "c"]
    end

    test "a list kept as a ref" do
      list = SnakeBridge.eval!("[1, 2, 3]", %{}, return: :ref)
      assert %Ref{type: "list"} = list
      assert Enum.to_list(list) == [1, 2, 3]
      assert Enum.map(list, &(&1 + 1)) == [2, 3, 4]
    end

    test "dict views" do
      dict = SnakeBridge.eval!("{'a': 1, 'b': 2}", %{}, return: :ref)
      assert dict |> SnakeBridge.method!("keys") |> Enum.to_list() == ["a", "b"]
      assert dict |> SnakeBridge.method!("values") |> Enum.to_list() == [1, 2]
      assert dict |> SnakeBridge.method!("items") |> Enum.to_list() == [{"a", 1}, {"b", 2}]
      # Iterating a dict yields its keys, as in Python.
      assert Enum.to_list(dict) == ["a", "b"]
    end

    test "range" do
      range = SnakeBridge.call!("builtins", "range", [2, 20, 5])
      assert %Ref{type: "range"} = range
      assert Enum.to_list(range) == [2, 7, 12, 17]
    end

    test "a file object yields its lines and stays open after Enum.take", %{tmp_dir: dir} do
      path = Path.join(dir, "lines.txt")
      File.write!(path, "one\ntwo\nthree\nfour\n")
      file = SnakeBridge.call!("builtins", "open", [path])

      assert Enum.take(file, 2) == ["one\n", "two\n"]
      assert SnakeBridge.attr!(file, "closed") == false

      SnakeBridge.method!(file, "seek", [0])
      assert Enum.to_list(file) == ["one\n", "two\n", "three\n", "four\n"]
      assert SnakeBridge.attr!(file, "closed") == false
      SnakeBridge.method!(file, "close")
    end

    test "with batch: 1 a file continues exactly where the consumer stopped",
         %{tmp_dir: dir} do
      path = Path.join(dir, "lines.txt")
      File.write!(path, "one\ntwo\nthree\nfour\n")
      file = SnakeBridge.call!("builtins", "open", [path])

      assert file |> SnakeBridge.stream(batch: 1) |> Enum.take(1) == ["one\n"]
      assert SnakeBridge.method!(file, "readline") == "two\n"
      assert Enum.to_list(file) == ["three\n", "four\n"]
      SnakeBridge.method!(file, "close")
    end

    test "csv.reader over a file", %{tmp_dir: dir} do
      path = Path.join(dir, "data.csv")
      File.write!(path, "name,n\nada,1\n\"x, y\",2\n")
      file = SnakeBridge.call!("builtins", "open", [path], newline: "")
      reader = SnakeBridge.call!("csv", "reader", [file])

      assert Enum.to_list(reader) == [["name", "n"], ["ada", "1"], ["x, y", "2"]]
      SnakeBridge.method!(file, "close")
    end

    test "a pandas Series" do
      series = SnakeBridge.call!("pandas", "Series", [[1.5, 2.5, 4.0]])
      assert %Ref{type: "pandas." <> _} = series
      assert Enum.to_list(series) == [1.5, 2.5, 4.0]
      assert Enum.count(series) == 3
    end

    test "an ndarray: scalars by value, rows of a matrix as refs" do
      vector = SnakeBridge.call!("numpy", "arange", [5])
      assert Enum.to_list(vector) == [0, 1, 2, 3, 4]

      matrix = SnakeBridge.call!("numpy", "arange", [6]) |> SnakeBridge.method!("reshape", [2, 3])
      rows = Enum.to_list(matrix)
      assert [%Ref{type: "numpy.ndarray"}, %Ref{}] = rows
      assert Enum.map(rows, &SnakeBridge.to_elixir!/1) == [[0, 1, 2], [3, 4, 5]]
    end

    test "itertools.count is infinite and Enum.take still returns" do
      count = SnakeBridge.call!("itertools", "count", [10, 5])
      assert Enum.take(count, 4) == [10, 15, 20, 25]

      assert SnakeBridge.call!("itertools", "count", [])
             |> Stream.map(&(&1 * 2))
             |> Stream.filter(&(rem(&1, 3) == 0))
             |> Enum.take(3) == [0, 6, 12]
    end

    test "items that are not plain data arrive as refs" do
      gen = SnakeBridge.eval!("import fractions\n(fractions.Fraction(1, n) for n in (2, 3))")
      assert [%Ref{type: "fractions.Fraction"} = half, %Ref{}] = Enum.to_list(gen)
      assert to_string(half) == "1/2"
    end

    test "any object with __iter__" do
      obj =
        SnakeBridge.eval!(
          "class Three:\n    def __iter__(self):\n        return iter('xyz')\nThree()"
        )

      assert Enum.to_list(obj) == ["x", "y", "z"]
    end
  end

  describe "laziness" do
    test "a side-effecting generator never runs more than one batch ahead" do
      {gen, log} = logged_gen(100)
      produced = fn -> SnakeBridge.call!("builtins", "len", [log]) end

      seen =
        gen
        |> SnakeBridge.stream(batch: 4)
        |> Stream.map(fn item -> {item, produced.()} end)
        |> Enum.take(10)

      assert Enum.map(seen, &elem(&1, 0)) == Enum.to_list(0..9)

      for {item, produced} <- seen do
        consumed = item + 1
        assert produced >= consumed
        assert produced - consumed < 4, "item #{item}: #{produced} produced, batch is 4"
      end

      # Ten taken in batches of four: three batches, then the generator was closed.
      assert py_list(log) == Enum.to_list(0..11) ++ ["closed"]
    end

    test "the default batch size starts small" do
      {gen, log} = logged_gen(100_000)
      assert Enum.take(gen, 1) == [0]
      assert length(py_list(log)) < 100
    end
  end

  describe "halting early" do
    test "Enum.take closes a generator, so its finally block runs" do
      {gen, log} = logged_gen(1_000)
      assert Enum.take(gen, 3) == [0, 1, 2]
      assert List.last(py_list(log)) == "closed"
    end

    test "Enum.find closes a generator" do
      {gen, log} = logged_gen(1_000)
      assert Enum.find(gen, &(&1 == 5)) == 5
      assert List.last(py_list(log)) == "closed"
    end

    test "a raise inside the consumer closes the generator and propagates" do
      {gen, log} = logged_gen(1_000)

      assert_raise RuntimeError, "consumer failed", fn ->
        Enum.each(gen, fn item -> if item == 2, do: raise("consumer failed") end)
      end

      assert List.last(py_list(log)) == "closed"
    end

    test "a throw inside the consumer closes the generator" do
      {gen, log} = logged_gen(1_000)
      assert catch_throw(Enum.each(gen, fn item -> if item == 1, do: throw(:stop) end)) == :stop
      assert List.last(py_list(log)) == "closed"
    end

    test "the iterator is released, on halt, on exhaustion and on a consumer raise" do
      tracked = SnakeBridge.eval!(@tracked)

      live_inside = tracked |> Stream.map(fn _ -> live_iterators(tracked) end) |> Enum.take(2)

      assert live_inside == [1, 1]
      assert live_iterators(tracked) == 0

      assert_raise RuntimeError, fn -> Enum.each(tracked, fn _ -> raise "stop" end) end
      assert live_iterators(tracked) == 0
    end

    test "a generator used by a halted stream is closed but stays a valid ref" do
      {gen, _log} = logged_gen(10)
      assert Enum.take(gen, 1) == [0]
      assert SnakeBridge.attr!(gen, "gi_frame") == nil
    end
  end

  describe "exceptions inside the generator" do
    @failing """
    def failing():
        yield 1
        yield 2
        raise ValueError("boom at three")
    failing()
    """

    for batch <- [1, 2, :auto] do
      test "items before the error are delivered, then PythonError (batch: #{inspect(batch)})" do
        gen = SnakeBridge.eval!(@failing)
        parent = self()

        error =
          assert_raise PythonError, fn ->
            gen
            |> SnakeBridge.stream(batch: unquote(batch))
            |> Enum.each(&send(parent, {:item, &1}))
          end

        assert_received {:item, 1}
        assert_received {:item, 2}
        refute_received {:item, _}
        assert error.type == "ValueError"
        assert error.message == "boom at three"
        assert error.traceback =~ "in failing"
        assert error.traceback =~ "ValueError: boom at three"
      end
    end

    test "an error from __iter__ itself is raised on enumeration" do
      obj =
        SnakeBridge.eval!(
          "class Bad:\n    def __iter__(self):\n        raise OSError('no')\nBad()"
        )

      assert_raise PythonError, "OSError: no", fn -> Enum.to_list(obj) end
    end

    test "a non-iterable is a TypeError" do
      assert_raise PythonError, ~r/TypeError: 'int' object is not iterable/, fn ->
        SnakeBridge.eval!("1", %{}, return: :ref) |> Enum.to_list()
      end
    end
  end

  describe "re-iteration" do
    test "an exhausted generator yields nothing" do
      gen = SnakeBridge.eval!("(i for i in range(3))")
      assert Enum.to_list(gen) == [0, 1, 2]
      assert Enum.to_list(gen) == []
    end

    test "a list ref yields again" do
      list = SnakeBridge.eval!("[1, 2]", %{}, return: :ref)
      assert Enum.to_list(list) == [1, 2]
      assert Enum.to_list(list) == [1, 2]
    end

    test "a generator halted early cannot be resumed: Python closed it" do
      gen = SnakeBridge.eval!("(i for i in range(10))")
      assert Enum.take(gen, 2) == [0, 1]
      assert Enum.to_list(gen) == []
    end
  end

  describe "Enum.count/1 and Enum.member?/2" do
    @no_iter """
    class NoIter:
        def __iter__(self):
            raise RuntimeError("iterated")
        def __len__(self):
            return 42
        def __contains__(self, item):
            return item == "in"
    NoIter()
    """

    test "Enum.count uses len() without iterating" do
      assert SnakeBridge.eval!(@no_iter) |> Enum.count() == 42
    end

    test "Enum.member? uses __contains__ without iterating" do
      obj = SnakeBridge.eval!(@no_iter)
      assert Enum.member?(obj, "in")
      refute Enum.member?(obj, "out")
    end

    test "without __len__ or __contains__, Enum iterates (consuming a generator)" do
      assert SnakeBridge.eval!("(i for i in range(7))") |> Enum.count() == 7

      # Finding the item halts the iteration, which closes the generator.
      gen = SnakeBridge.eval!("(i for i in range(7))")
      assert Enum.member?(gen, 3)
      assert Enum.to_list(gen) == []
    end

    test "a list ref and a dict ref use len and in" do
      list = SnakeBridge.eval!("list(range(1000))", %{}, return: :ref)
      assert Enum.count(list) == 1000
      assert Enum.member?(list, 999)
      refute Enum.member?(list, 1000)

      dict = SnakeBridge.eval!("{'k': 1}", %{}, return: :ref)
      assert Enum.member?(dict, "k")
    end
  end

  describe "stream/2" do
    test "returns a lazy stream: nothing runs until it is enumerated" do
      {gen, log} = logged_gen(10)
      stream = SnakeBridge.stream(gen, batch: 2)
      assert py_list(log) == []
      assert Enum.to_list(stream) == Enum.to_list(0..9)
    end

    test "validates :batch up front" do
      list = SnakeBridge.eval!("[1]", %{}, return: :ref)

      for bad <- [0, -1, 1.5, "4", nil] do
        assert_raise ArgumentError, ~r/expected :batch to be :auto or a positive integer/, fn ->
          SnakeBridge.stream(list, batch: bad)
        end
      end

      assert_raise ArgumentError, ~r/unknown option :bogus for SnakeBridge.stream\/2/, fn ->
        SnakeBridge.stream(list, bogus: 1)
      end
    end

    test "any batch size gives the same items" do
      for batch <- [1, 3, 64, :auto] do
        gen = SnakeBridge.eval!("(i for i in range(200))")
        assert gen |> SnakeBridge.stream(batch: batch) |> Enum.to_list() == Enum.to_list(0..199)
      end
    end
  end
end

defmodule SnakeBridge.IterationMemoryTest do
  # Not async: it reads the worker's RSS, which other tests' calls would disturb.
  use ExUnit.Case, async: false

  @mib 1024 * 1024

  defp worker_rss({_pool, index, _incarnation}) do
    SnakeBridge.stats().per_worker |> Enum.find(&(&1.index == index)) |> Map.fetch!(:rss)
  end

  # Sums a generator of n ints, sampling this process's memory every million items.
  defp sum_generator(n) do
    gen = SnakeBridge.eval!("def g(n):\n    yield from range(n)\ng(n)", %{n: n})

    {sum, peak} =
      Enum.reduce(gen, {0, 0}, fn item, {sum, peak} ->
        if rem(item, 1_000_000) == 0 do
          {:memory, memory} = Process.info(self(), :memory)
          {sum + item, max(peak, memory)}
        else
          {sum + item, peak}
        end
      end)

    {gen, sum, peak}
  end

  test "a 10-million-item generator runs in constant memory on both sides" do
    {gen, sum, _peak} = sum_generator(1_000_000)
    assert sum == div(1_000_000 * 999_999, 2)
    rss_after_1m = worker_rss(gen.worker)

    {gen, sum, peak} = sum_generator(10_000_000)
    assert sum == div(10_000_000 * 9_999_999, 2)
    rss_after_10m = worker_rss(gen.worker)

    # Materialising 10M ints would take > 300 MiB in Python and > 150 MiB in the BEAM.
    assert rss_after_10m - rss_after_1m < 32 * @mib
    assert peak < 32 * @mib
  end
end
