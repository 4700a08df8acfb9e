defmodule SnakeBridge.DataTest do
  # Arrays, bytes, shared memory and pandas against real numpy and pandas.
  use ExUnit.Case, async: true

  alias SnakeBridge.{Array, Bytes, EncodeError, PythonError, Ref}

  defp numpy(code), do: SnakeBridge.eval!("import numpy as np\n" <> code)

  describe "Array.from_ref/1" do
    test "float64 matrix: dtype, shape and C-order little-endian data" do
      {:ok, array} = Array.from_ref(numpy("np.arange(6.0).reshape(2, 3)"))
      assert %Array{dtype: "float64", shape: {2, 3}} = array
      assert for(<<x::float-little-64 <- array.data>>, do: x) == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    end

    test "every numeric dtype crosses with the right bytes" do
      for dtype <-
            ~w(bool int8 int16 int32 int64 uint8 uint16 uint32 uint64 float16 float32 float64 complex64 complex128) do
        ref = numpy("np.array([1, 0, 1], dtype='#{dtype}')")
        {:ok, array} = Array.from_ref(ref)

        expected =
          SnakeBridge.eval!("a.astype(a.dtype.newbyteorder('<')).tobytes()", %{"a" => ref})

        assert array.dtype == dtype
        assert array.shape == {3}
        assert %Bytes{data: array.data} == expected
      end
    end

    test "non-contiguous and Fortran-order arrays come out in C order" do
      {:ok, strided} = Array.from_ref(numpy("np.arange(10, dtype='int32')[::3]"))
      assert for(<<x::signed-little-32 <- strided.data>>, do: x) == [0, 3, 6, 9]

      {:ok, fortran} =
        Array.from_ref(numpy("np.asfortranarray(np.arange(6, dtype='int16').reshape(2, 3))"))

      assert fortran.shape == {2, 3}
      assert for(<<x::signed-little-16 <- fortran.data>>, do: x) == [0, 1, 2, 3, 4, 5]
    end

    test "big-endian arrays are converted to little-endian" do
      {:ok, array} = Array.from_ref(numpy("np.array([1, 2], dtype='>i4')"))
      assert array.dtype == "int32"
      assert array.data == <<1::little-32, 2::little-32>>
    end

    test "object and string dtypes give a clear error" do
      assert {:error, %PythonError{type: "TypeError", message: message}} =
               Array.from_ref(numpy("np.array(['a', 'b'])"))

      assert message =~ "dtype"
    end
  end

  describe "Array arguments" do
    test "arrive as a read-only ndarray over the buffer" do
      array = %Array{
        dtype: "float32",
        shape: {2, 2},
        data:
          <<1.0::float-little-32, 2.0::float-little-32, 3.0::float-little-32,
            4.0::float-little-32>>
      }

      assert SnakeBridge.eval!("(a.dtype.name, a.shape, a.tolist(), a.flags.writeable)", %{
               "a" => array
             }) ==
               {"float32", {2, 2}, [[1.0, 2.0], [3.0, 4.0]], false}
    end

    test "round trip through Python is exact" do
      {:ok, array} = Array.from_ref(numpy("np.random.default_rng(1).random((3, 4))"))
      {:ok, back} = Array.from_ref(SnakeBridge.eval!("a.copy()", %{"a" => array}))
      assert back == array
    end

    test "a size that does not match the shape is refused" do
      bad = %Array{dtype: "int64", shape: {3}, data: <<0::64>>}
      assert {:error, %EncodeError{reason: reason}} = SnakeBridge.eval("a", %{"a" => bad})
      assert reason =~ "needs 24 bytes"
    end
  end

  describe "to_elixir/1 on data" do
    test "ndarray gives nested lists" do
      assert SnakeBridge.to_elixir!(numpy("np.array([[1, 2], [3, 4]])")) == [[1, 2], [3, 4]]
    end

    test "bytearray and memoryview give Bytes" do
      assert SnakeBridge.to_elixir!(SnakeBridge.eval!("bytearray(b'ab')")) == %Bytes{data: "ab"}

      assert SnakeBridge.to_elixir!(SnakeBridge.eval!("memoryview(b'xyz')[1:]")) == %Bytes{
               data: "yz"
             }
    end

    test "bytes stay Bytes even when they are valid UTF-8" do
      assert SnakeBridge.eval!("b'plain'") == %Bytes{data: "plain"}
    end
  end

  describe "large payloads" do
    test "megabytes of bytes round-trip exactly, both ways, out of band" do
      data = :crypto.strong_rand_bytes(3_000_000)

      assert SnakeBridge.call!("builtins", "bytes", [SnakeBridge.bytes(data)]) == %Bytes{
               data: data
             }

      assert SnakeBridge.eval!("len(b)", %{"b" => SnakeBridge.bytes(data)}) == 3_000_000
    end

    test "large text stays text" do
      text = String.duplicate("héllo ", 500_000)
      assert SnakeBridge.call!("builtins", "str", [text]) == text
    end

    test "a large ndarray crosses intact" do
      ref = numpy("np.arange(2_000_000, dtype='float64')")
      {:ok, array} = Array.from_ref(ref)
      assert byte_size(array.data) == 16_000_000
      assert binary_part(array.data, 8 * 1_999_999, 8) == <<1_999_999.0::float-little-64>>
      assert SnakeBridge.eval!("float(a.sum())", %{"a" => array}) == 1_999_999_000_000.0
    end
  end

  describe "pandas" do
    test "to_elixir gives Arrays for numeric columns and lists otherwise" do
      df = SnakeBridge.call!("pandas", "DataFrame", [%{"n" => [1.5, 2.5], "s" => ["a", "b"]}])
      assert %Ref{type: "pandas.DataFrame"} = df

      assert %{"n" => %Array{dtype: "float64", shape: {2}, data: data}, "s" => ["a", "b"]} =
               SnakeBridge.to_elixir!(df)

      assert data == <<1.5::float-little-64, 2.5::float-little-64>>
    end

    test "Series are refs and convert to lists" do
      df = SnakeBridge.call!("pandas", "DataFrame", [%{"x" => [3, 1, 2]}])
      series = df["x"]
      assert %Ref{type: "pandas.Series"} = series
      assert SnakeBridge.to_elixir!(series) == [3, 1, 2]
    end
  end
end
