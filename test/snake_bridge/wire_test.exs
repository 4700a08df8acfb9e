defmodule SnakeBridge.WireTest do
  use ExUnit.Case, async: true

  test "the Elixir and Python wire tables agree" do
    python =
      SnakeBridge.eval!("""
      from snakebridge import _wire as w
      {
          "protocol": w.PROTOCOL_VERSION,
          "ops": {m.name.lower(): m.value for m in w.Op},
          "kinds": {m.name.lower(): m.value for m in w.Kind},
          "return_modes": {m.name.lower(): m.value for m in w.ReturnMode},
          "streams": {m.name.lower(): m.value for m in w.Stream},
          "no_reply": int(w.Flag.NO_REPLY),
          "shm_flag": w.SHM_FLAG,
          "blob_flag": w.BLOB_FLAG,
          "has_blobs": int(w.Flag.HAS_BLOBS),
          "blob_min": w.BLOB_MIN,
      }
      """)

    elixir = SnakeBridge.Wire.table()
    stringify = fn map -> Map.new(map, fn {k, v} -> {Atom.to_string(k), v} end) end

    assert python["protocol"] == SnakeBridge.Wire.protocol_version()
    assert python["no_reply"] == SnakeBridge.Wire.no_reply()
    assert python["shm_flag"] == SnakeBridge.Wire.shm_flag()
    assert python["blob_flag"] == SnakeBridge.Wire.blob_flag()
    assert python["has_blobs"] == SnakeBridge.Wire.has_blobs()
    assert python["blob_min"] == SnakeBridge.Wire.blob_min()

    for key <- [:ops, :kinds, :return_modes, :streams] do
      assert python[Atom.to_string(key)] == stringify.(elixir[key]), "#{key} differ"
    end
  end
end
