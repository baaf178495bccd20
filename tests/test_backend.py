import subprocess
import sys


def run_python(code, **env):
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )


def test_zoo_selects_the_tensorflow_backend_itself():
    result = run_python(
        "import zoo, keras; print(keras.backend.backend())", KERAS_BACKEND="numpy", PATH=""
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "tensorflow"


def test_importing_zoo_after_keras_on_another_backend_explains_the_problem():
    # Only TensorFlow is installed, so stand in for Keras having loaded on JAX.
    result = run_python("import keras; keras.backend.backend = lambda: 'jax'; import zoo", PATH="")
    assert result.returncode != 0
    assert "zoo needs Keras' TensorFlow backend" in result.stderr
    assert "backend 'jax'" in result.stderr
