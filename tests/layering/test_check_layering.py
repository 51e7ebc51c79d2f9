#!/usr/bin/env python3
"""Self-test of check_layering.py on small synthetic source trees.

Each test writes a tree into a temporary folder, runs the checker on it as CTest does (a
separate interpreter, --root pointing at the tree) and asserts on the exit status and the
report. Standard library only; exits non-zero when a test fails.
"""

import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

CHECKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "check_layering.py")

# A tree that respects every rule; the tests add the one include they are about.
CLEAN_TREE = {
    "base/errors.h": "#pragma once\n",
    "base/errors.cpp": '#include "base/errors.h"\n',
    "formats/manifest.h": '#include "base/errors.h"\n',
    "formats/manifest.cpp": '#include "formats/manifest.h"\n#include <vector>\n',
    "layers/layer.h": '#include "formats/manifest.h"\n',
    "layers/registry.h": '#include "layers/layer.h"\n',
    "layers/conv/x.h": '#include "layers/layer.h"\n',
    "engine/graph.h": '#include "formats/manifest.h"\n',
    "engine/gpu/engine.cu": '#include "engine/graph.h"\n#include "layers/layer.h"\n',
}


class CheckerRun:
    def __init__(self, completed: subprocess.CompletedProcess):
        self.exit_code = completed.returncode
        self.output = completed.stdout + completed.stderr


class LayeringCheckerTest(unittest.TestCase):
    def setUp(self):
        self._temporary = tempfile.TemporaryDirectory()
        self.root = self._temporary.name

    def tearDown(self):
        self._temporary.cleanup()

    # -- helpers ------------------------------------------------------------------------------

    def write_tree(self, files):
        for relative_path, text in files.items():
            path = os.path.join(self.root, relative_path)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as out:
                out.write(text)

    def clean_tree_with(self, extra_files):
        files = dict(CLEAN_TREE)
        files.update(extra_files)
        self.write_tree(files)

    def run_checker(self, *options) -> CheckerRun:
        completed = subprocess.run(
            [sys.executable, CHECKER, "--root", self.root] + list(options),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
        return CheckerRun(completed)

    def assert_passes(self, run: CheckerRun):
        self.assertEqual(run.exit_code, 0, run.output)
        self.assertIn("layering ok", run.output)

    def assert_fails_with(self, run: CheckerRun, *fragments):
        self.assertEqual(run.exit_code, 1, run.output)
        for fragment in fragments:
            self.assertIn(fragment, run.output)

    # -- a clean tree -------------------------------------------------------------------------

    def test_clean_tree_passes_and_lists_the_folder_edges(self):
        self.write_tree(CLEAN_TREE)
        run = self.run_checker()
        self.assert_passes(run)
        self.assertIn("9 files scanned in 6 folders", run.output)
        self.assertIn("engine/gpu -> engine, layers\n", run.output)
        self.assertIn("layers/conv -> layers\n", run.output)
        # A folder including itself is not an edge worth listing.
        self.assertNotIn("base -> base", run.output)

    # -- rule 1: no mutual includes -----------------------------------------------------------

    def test_mutual_include_between_siblings_fails_naming_both_folders_and_examples(self):
        self.write_tree({
            "alpha/a.h": '#include "beta/b.h"\n',
            "beta/b.h": '#include "alpha/a.h"\n',
        })
        run = self.run_checker()
        self.assert_fails_with(run, "alpha <-> beta", "alpha/a.h -> beta/b.h", "beta/b.h -> alpha/a.h")
        self.assertEqual(run.output.count("rule 1"), 1, run.output)

    def test_mutual_include_between_parent_and_child_passes(self):
        self.clean_tree_with({
            "layers/layer.cpp": '#include "layers/conv/x.h"\n',
            "engine/gpu/context.h": '#include "engine/graph.h"\n',
            "engine/graph.cpp": '#include "engine/gpu/context.h"\n',
        })
        self.assert_passes(self.run_checker())

    def test_mutual_include_with_a_grandchild_passes(self):
        self.write_tree({
            "engine/a.h": '#include "engine/gpu/deep/b.h"\n',
            "engine/gpu/deep/b.h": '#include "engine/a.h"\n',
        })
        self.assert_passes(self.run_checker())

    def test_folder_name_prefix_is_not_an_ancestor(self):
        # "layers" is no ancestor of "layers_extra": only whole path components count.
        self.write_tree({
            "layers/a.h": '#include "layers_extra/b.h"\n',
            "layers_extra/b.h": '#include "layers/a.h"\n',
        })
        self.assert_fails_with(self.run_checker(), "layers <-> layers_extra")

    # -- rules 2 to 4 -------------------------------------------------------------------------

    def test_formats_including_engine_fails_rule_3(self):
        self.clean_tree_with({"formats/rules.cpp": '#include "engine/graph.h"\n'})
        self.assert_fails_with(
            self.run_checker(), "rule 3", "formats -> engine", "formats/rules.cpp -> engine/graph.h")

    def test_base_including_formats_fails_rule_2(self):
        self.clean_tree_with({"base/io.cpp": '#include "formats/manifest.h"\n'})
        self.assert_fails_with(
            self.run_checker(), "rule 2", "base -> formats", "base/io.cpp -> formats/manifest.h")

    def test_engine_gpu_including_an_op_folder_fails_rule_4(self):
        self.clean_tree_with({"engine/gpu/run.cpp": '#include "layers/conv/x.h"\n'})
        self.assert_fails_with(
            self.run_checker(), "rule 4", "engine/gpu -> layers/conv",
            "engine/gpu/run.cpp -> layers/conv/x.h")

    def test_engine_gpu_including_the_registry_passes(self):
        self.clean_tree_with({"engine/gpu/run.cpp": '#include "layers/registry.h"\n'})
        self.assert_passes(self.run_checker())

    def test_missing_base_skips_rule_2_with_a_note(self):
        files = {path: text for path, text in CLEAN_TREE.items() if not path.startswith("base/")}
        files["formats/manifest.h"] = "#pragma once\n"
        self.write_tree(files)
        run = self.run_checker()
        self.assert_passes(run)
        self.assertIn("note: base/ does not exist; rule 2 skipped", run.output)

    # -- what is not an include ---------------------------------------------------------------

    def test_angle_bracket_includes_are_ignored(self):
        # Would violate rule 3 if <...> counted.
        self.clean_tree_with({"formats/rules.cpp": "#include <engine/graph.h>\n"})
        self.assert_passes(self.run_checker())

    def test_commented_out_include_is_ignored(self):
        self.clean_tree_with({"formats/rules.cpp": textwrap.dedent("""\
            // #include "engine/graph.h"
            #  include "formats/manifest.h"
            """)})
        self.assert_passes(self.run_checker())

    def test_indented_include_with_spaces_after_hash_counts(self):
        self.clean_tree_with({"formats/rules.cpp": '  #  include "engine/graph.h"\n'})
        self.assert_fails_with(self.run_checker(), "rule 3", "formats -> engine")

    def test_unresolved_include_is_ignored_and_reported_with_verbose(self):
        self.clean_tree_with({"formats/rules.cpp": '#include "engine/missing.h"\n'})
        self.assert_passes(self.run_checker())
        verbose_run = self.run_checker("--verbose")
        self.assert_passes(verbose_run)
        self.assertIn("formats/rules.cpp -> engine/missing.h", verbose_run.output)

    def test_build_and_hidden_folders_are_not_scanned(self):
        self.clean_tree_with({
            "build/formats/rules.cpp": '#include "engine/graph.h"\n',
            ".baseline/formats/rules.cpp": '#include "engine/graph.h"\n',
        })
        run = self.run_checker()
        self.assert_passes(run)
        self.assertIn("{} files scanned".format(len(CLEAN_TREE)), run.output)


if __name__ == "__main__":
    # unittest.main exits with status 1 when any test fails, which CTest reads as a failure.
    unittest.main(verbosity=2)
