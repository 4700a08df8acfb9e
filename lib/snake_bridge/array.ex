defmodule SnakeBridge.Array do
  @moduledoc """
  A numpy array's contents as one binary: no per-element work on either side.

  `data` is C-order and native-endian. Build one from an ndarray ref with
  `from_ref/1`; pass one as an argument and Python receives an ndarray built over the
  received buffer (a read-only view: call `.copy()` in Python to get a writable one).

  ## dtype ↔ Nx type

  | dtype | Nx type | | dtype | Nx type |
  |---|---|---|---|---|
  | `"bool"` | `{:u, 8}` | | `"uint8"` | `{:u, 8}` |
  | `"int8"` | `{:s, 8}` | | `"uint16"` | `{:u, 16}` |
  | `"int16"` | `{:s, 16}` | | `"uint32"` | `{:u, 32}` |
  | `"int32"` | `{:s, 32}` | | `"uint64"` | `{:u, 64}` |
  | `"int64"` | `{:s, 64}` | | `"float16"` | `{:f, 16}` |
  | `"float32"` | `{:f, 32}` | | `"float64"` | `{:f, 64}` |
  | `"complex64"` | `{:c, 64}` | | `"complex128"` | `{:c, 128}` |

      Nx.from_binary(array.data, type) |> Nx.reshape(array.shape)

  SnakeBridge itself does not depend on Nx.
  """

  @enforce_keys [:dtype, :shape, :data]
  defstruct [:dtype, :shape, :data]

  @typedoc "A numpy array's dtype name, shape and raw C-order native-endian data."
  @type t :: %__MODULE__{dtype: String.t(), shape: tuple, data: binary}

  @doc """
  Copies the ndarray behind `ref` into an `Array`.

  Non-contiguous and Fortran-order arrays are made C-contiguous first (one copy in
  Python); contiguous ones cross without any copy in Python.
  """
  @spec from_ref(SnakeBridge.Ref.t()) :: {:ok, t} | {:error, Exception.t()}
  def from_ref(%SnakeBridge.Ref{} = ref), do: SnakeBridge.Call.RefOps.array_export(ref)
end
