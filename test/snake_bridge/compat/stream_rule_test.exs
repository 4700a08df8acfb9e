defmodule SnakeBridge.CompatStreamTest do
  # The stream rule: a batch ends right after an item that is not plain data, so an
  # iterator is never advanced past a live object before the consumer has taken it.
  use ExUnit.Case, async: true

  test "itertools.groupby: each group is read before the iterator moves on" do
    groups =
      SnakeBridge.call!("itertools", "groupby", ["AAB"])
      |> Enum.map(fn {k, g} -> {k, Enum.to_list(g)} end)

    assert groups == [{"A", ["A", "A"]}, {"B", ["B"]}]
  end

  test "groupby with a key over numbers, and a lazy Stream pipeline" do
    runs =
      SnakeBridge.call!("itertools", "groupby", [[1, 3, 2, 4, 5, 7, 6]], key: &rem(&1, 2))
      |> Stream.map(fn {parity, g} -> {parity, Enum.sum(g)} end)
      |> Enum.to_list()

    assert runs == [{1, 4}, {0, 6}, {1, 12}, {0, 6}]
  end

  test "an iterator handing out an object tied to its position (a cursor's row)" do
    code = """
    class Cursor:
        def __init__(self, n):
            self.n, self.row = n, None
        def __iter__(self):
            return self
        def __next__(self):
            if self.row is not None and self.row.value >= self.n:
                raise StopIteration
            self.row = Row(self, 0 if self.row is None else self.row.value + 1)
            return self.row
    class Row:
        def __init__(self, cursor, value):
            self.cursor, self.value = cursor, value
        def current(self):
            return self.cursor.row is self
    Cursor(4)
    """

    cursor = SnakeBridge.eval!(code)
    current = Enum.map(cursor, &SnakeBridge.method!(&1, "current"))
    assert current == [true, true, true, true, true]
  end

  test "plain data still streams in batches, and mixed items keep their order" do
    assert SnakeBridge.eval!("(i * i for i in range(5000))") |> Enum.sum() ==
             Enum.sum(for i <- 0..4999, do: i * i)

    mixed = SnakeBridge.eval!("(x for x in [1, object(), (2, 'a'), {'k': [3]}, object(), 4])")

    assert [1, %SnakeBridge.Ref{}, {2, "a"}, %{"k" => [3]}, %SnakeBridge.Ref{}, 4] =
             Enum.to_list(mixed)
  end

  test "tarfile members are read while the archive is at them" do
    dir = Path.join(System.tmp_dir!(), "sb_tar_#{System.unique_integer([:positive])}")
    File.mkdir_p!(dir)
    on_exit(fn -> File.rm_rf!(dir) end)

    for name <- ~w(a b c),
        do: File.write!(Path.join(dir, name <> ".txt"), String.duplicate(name, 3))

    tar_path = Path.join(dir, "x.tar")

    SnakeBridge.eval!(
      "import tarfile, os\nwith tarfile.open(p, 'w') as t:\n    for n in 'abc':\n        t.add(os.path.join(d, n + '.txt'), arcname=n + '.txt')",
      %{p: tar_path, d: dir}
    )

    tar = SnakeBridge.call!("tarfile", "open", [tar_path])

    contents =
      Enum.map(tar, fn member ->
        file = SnakeBridge.method!(tar, "extractfile", [member])
        SnakeBridge.method!(file, "read").data
      end)

    assert contents == ["aaa", "bbb", "ccc"]
  end
end
