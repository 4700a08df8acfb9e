defmodule SnakeBridge.Slice do
  @moduledoc """
  A Python `slice`: what `a[start:stop:step]` passes to `__getitem__`.

  Build one with `SnakeBridge.slice/3` and use it as a key, alone or inside a tuple
  (numpy and pandas index with tuples of slices):

      iex> {:ok, list} = SnakeBridge.eval("list(range(10))", %{}, return: :ref)
      iex> SnakeBridge.get_item!(list, SnakeBridge.slice(2, 8, 2))
      [2, 4, 6]

  The fields keep Python's meaning: `stop` is exclusive, negative numbers count from
  the end, and `nil` is Python's `None` (the default on that side). They may hold any
  term the bridge can send, not only integers (pandas slices by labels and dates).

  A Python `slice` comes back as this struct, so slices round-trip exactly.

  > #### Elixir ranges are not slices {: .info}
  >
  > An Elixir range is inclusive (`2..5` holds 5) and `-1` in it is a number, while a
  > Python slice stops before `stop` and `-1` means "the last". No mapping keeps both
  > readings (`a[-3..-1]` would need `slice(-3, None)`, `a[0..-1//1]` is empty in
  > Elixir), so ranges are not taken as slices: write `SnakeBridge.slice(2, 6)` for
  > Python's `a[2:6]`.
  """

  defstruct start: nil, stop: nil, step: nil

  @typedoc "Python's `slice(start, stop, step)`; `nil` is `None`."
  @type t :: %__MODULE__{start: term, stop: term, step: term}
end
