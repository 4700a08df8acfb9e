# Soak tests (leak hunting) take a while: run them with `mix test --include soak`
# (scripts/test does).
ExUnit.start(exclude: [:soak])
