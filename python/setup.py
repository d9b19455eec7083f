"""Builds async_cassandra_cpp._core with the repository's CMake project (see pyproject.toml)."""
import os
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build_dir = os.path.join(os.path.abspath(self.build_temp), "cmake")
        args = ["-DCMAKE_BUILD_TYPE=Release", "-DPython3_EXECUTABLE=" + sys.executable,
                "-DASYNC_CASSANDRA_BUILD_TESTS=OFF", "-DASYNC_CASSANDRA_BUILD_BENCH=OFF",
                "-DASYNC_CASSANDRA_BUILD_SERVER=OFF"]
        try:
            import pybind11
            args.append("-Dpybind11_DIR=" + pybind11.get_cmake_dir())
        except ImportError:
            pass
        subprocess.check_call(["cmake", "-S", ROOT, "-B", build_dir] + args)
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", "2")
        subprocess.check_call(["cmake", "--build", build_dir, "--target", "async_cassandra_cpp_core", "-j", jobs])
        built_dir = os.path.join(build_dir, "python", "async_cassandra_cpp")
        target = self.get_ext_fullpath(ext.name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        for name in os.listdir(built_dir):
            if name.startswith("_core") and name.endswith(".so"):
                shutil.copyfile(os.path.join(built_dir, name), target)
                return
        raise RuntimeError("the CMake build did not produce _core")


setup(ext_modules=[Extension("async_cassandra_cpp._core", sources=[])], cmdclass={"build_ext": CMakeBuild})
