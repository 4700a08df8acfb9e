defmodule SnakeBridge.Gen.NamingTest do
  use ExUnit.Case, async: true

  alias SnakeBridge.Gen.Naming

  describe "functions/2" do
    test "keeps valid snake_case names" do
      assert Naming.functions(["mean", "isnan"]) == %{"mean" => "mean", "isnan" => "isnan"}
    end

    test "suffixes names whose bang twin is a Kernel macro" do
      assert Naming.functions(["var", "alias", "value"]) ==
               %{"var" => "var_", "alias" => "alias_", "value" => "value"}
    end

    test "suffixes reserved words and Kernel imports with _" do
      assert Naming.functions(["max", "round", "in", "module_info"]) ==
               %{
                 "max" => "max_",
                 "round" => "round_",
                 "in" => "in_",
                 "module_info" => "module_info_"
               }
    end

    test "lowercases, replaces invalid characters and prefixes non-letters" do
      assert Naming.functions(["DataFrame", "_x", "é"]) ==
               %{"DataFrame" => "dataframe", "_x" => "py__x", "é" => "py__"}
    end

    test "names that clash after conversion: the exact one keeps it, others are numbered" do
      assert Naming.functions(["NaN", "nan", "NAN"]) ==
               %{"nan" => "nan", "NAN" => "nan_2", "NaN" => "nan_3"}
    end

    test "taken names are blocked" do
      assert Naming.functions(["new"], ["new"]) == %{"new" => "new_"}
    end
  end

  test "variables/2 avoid the generated ones" do
    assert Naming.variables(["N", "opts", "do"], ["opts", "ref"]) ==
             %{"N" => "n", "opts" => "opts_", "do" => "do_"}
  end

  test "segments/1 and module_alias/2" do
    assert Naming.segments(["ndarray", "__array_namespace_info__", "JSONDecoder", "zip_longest"]) ==
             %{
               "ndarray" => "Ndarray",
               "__array_namespace_info__" => "ArrayNamespaceInfo",
               "JSONDecoder" => "JSONDecoder",
               "zip_longest" => "ZipLongest"
             }

    assert Naming.module_alias("Py", "numpy.linalg") == "Py.Numpy.Linalg"
  end
end
