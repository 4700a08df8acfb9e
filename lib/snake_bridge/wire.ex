defmodule SnakeBridge.Wire do
  @moduledoc false
  # Wire constants: the Elixir copy of priv/python/snakebridge/_wire.py.
  # test/snake_bridge/wire_test.exs checks that the two tables agree.

  # 2: :caller_done became its own op (it was a second meaning of :cancel_caller on fd 3).
  # 3: the :report_start request flag, answered by a :started reply; :release_made,
  # which releases only the refs made for a reply that is not delivered.
  @protocol_version 3

  @ops %{
    call: 1,
    getattr: 2,
    setattr: 3,
    getitem: 4,
    setitem: 5,
    eval: 6,
    to_elixir: 7,
    repr: 8,
    str: 9,
    iter_next: 10,
    iter_close: 11,
    len: 12,
    contains: 13,
    ctx_enter: 14,
    ctx_exit: 15,
    release: 16,
    release_session: 17,
    callback_result: 18,
    cancel: 19,
    cancel_caller: 20,
    stats: 21,
    array_export: 22,
    iter_open: 23,
    call_module: 24,
    caller_done: 25,
    release_made: 26
  }

  @kinds %{ok: 0, error: 1, callback: 2, event: 3, log: 4, exited: 5, started: 6}
  @return_modes %{auto: 0, value: 1, ref: 2}
  @streams %{stdout: 1, stderr: 2}
  @no_reply 0b100
  # Set on a reply's kind byte when its payload holds SnakeBridge.Shm files.
  @shm_flag 0x80
  # Set on a reply's kind byte when large binaries follow the ETF out of band.
  @blob_flag 0x40
  # Set on a request's flags when its body is <<etf_size::32, etf, blobs>>.
  @has_blobs 0b1000
  # Set on a request's flags when what it prints goes to its caller (`output: :caller`).
  @output_caller 0b10000
  # Set on a request's flags when its caller wants a :started reply as the worker takes
  # the request up, before decoding it (see SnakeBridge.Call, "Re-running").
  @report_start 0b100000
  # Binaries at least this large travel out of band.
  @blob_min 65_536

  def protocol_version, do: @protocol_version

  @doc false
  def table,
    do: %{ops: @ops, kinds: @kinds, return_modes: @return_modes, streams: @streams}

  for {name, code} <- @ops do
    def op(unquote(name)), do: unquote(code)
  end

  for {name, code} <- @kinds do
    def kind(unquote(name)), do: unquote(code)
  end

  for {name, code} <- @return_modes do
    def return_mode(unquote(name)), do: unquote(code)
  end

  for {name, code} <- @streams do
    def stream(unquote(name)), do: unquote(code)
  end

  def no_reply, do: @no_reply
  def shm_flag, do: @shm_flag
  def blob_flag, do: @blob_flag
  def has_blobs, do: @has_blobs
  def output_caller, do: @output_caller
  def report_start, do: @report_start
  def blob_min, do: @blob_min
end
