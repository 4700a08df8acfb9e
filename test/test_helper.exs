# Soak tests take minutes: run them with `mix test --include soak` (scripts/test does).
ExUnit.start(exclude: [:soak])
