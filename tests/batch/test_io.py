"""The batch job's I/O: loading inputs (files, HTTP on loopback, moto's S3 server), image
preprocessing with Pillow, and writing outputs to directories and S3."""

from __future__ import annotations

import functools
import io
import json
import os
import pickle
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from smartflow.batch.images import PreprocessError, preprocess
from smartflow.batch.loaders import LoadError, describe, function_name, load, resolve_function
from smartflow.batch.outputs import (
    OutputError,
    OutputTarget,
    parse_output,
    write_split,
    write_summary,
)
from smartflow.batch.records import Result
from smartflow.errors import InvalidArgumentError, UnsupportedTypeError
from tests.batch import _servers


def module_level_stage(data: bytes) -> bytes:
    """A stage function a task manager could import by name."""
    return data


class Stages:
    @classmethod
    def load(cls, item: object) -> bytes:
        return b""


# -- fixtures -----------------------------------------------------------------------------------


def png_bytes(array: np.ndarray, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, fmt)
    return buffer.getvalue()


def rgb_image(height: int = 4, width: int = 6) -> np.ndarray:
    return (np.arange(height * width * 3).reshape(height, width, 3) * 7 % 256).astype(np.uint8)


# -- load: local ----------------------------------------------------------------------------


def test_array_passes_through() -> None:
    array = np.ones((2, 2))
    assert load(array) is array


def test_local_paths_str_pathlike_and_file_url(tmp_path: Path) -> None:
    path = tmp_path / "a dir" / "img 1.bin"
    path.parent.mkdir()
    path.write_bytes(b"\x00payload\xff")
    assert load(str(path)) == b"\x00payload\xff"
    assert load(path) == b"\x00payload\xff"
    assert "%20" in path.as_uri()  # percent-encoded, decoded by load
    assert load(path.as_uri()) == b"\x00payload\xff"
    assert load("file://localhost" + path.as_uri()[len("file://") :]) == b"\x00payload\xff"


def test_scheme_is_parsed_not_guessed_from_substrings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The seed took anything containing "http" for a URL.
    (tmp_path / "http_images").mkdir()
    (tmp_path / "http_images" / "s3_cat.png").write_bytes(b"cat")
    (tmp_path / "img:1.png").write_bytes(b"colon")
    monkeypatch.chdir(tmp_path)
    assert load(str(tmp_path / "http_images" / "s3_cat.png")) == b"cat"
    assert load("http_images/s3_cat.png") == b"cat"
    assert load("img:1.png") == b"colon"  # a scheme needs "//" to be a URL


def test_missing_file_directory_and_unknown_scheme_are_load_errors(tmp_path: Path) -> None:
    missing = tmp_path / "nope.png"
    with pytest.raises(LoadError, match="no such file") as info:
        load(str(missing))
    assert str(missing) in str(info.value)
    assert isinstance(info.value.__cause__, FileNotFoundError)
    with pytest.raises(LoadError, match="no such file"):
        load(missing.as_uri())
    with pytest.raises(LoadError, match="is a directory"):
        load(tmp_path)
    with pytest.raises(LoadError, match="unsupported scheme 'ftp'") as info:
        load("ftp://example.com/a.png")
    assert "ftp://example.com/a.png" in str(info.value)
    with pytest.raises(LoadError, match="not local"):
        load("file://otherhost/etc/hostname")
    with pytest.raises(LoadError, match="not a valid URL"):
        load("http://[::1")
    with pytest.raises(LoadError, match="null"):
        load("file:///tmp/a%00b")
    with pytest.raises(LoadError, match="not int"):
        load(42)


def test_bad_timeouts_are_argument_errors(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x")
    with pytest.raises(InvalidArgumentError, match="> 0"):
        load(str(tmp_path / "f"), timeout=0)
    with pytest.raises(UnsupportedTypeError):
        load(str(tmp_path / "f"), timeout="1")  # type: ignore[arg-type]


# -- load: HTTP -----------------------------------------------------------------------------


def test_http_body(served: tuple[str, Path]) -> None:
    url, root = served
    body = os.urandom(300_000)  # several chunks
    (root / "big.bin").write_bytes(body)
    assert load(f"{url}/big.bin", timeout=5) == body


def test_http_404_is_a_load_error(served: tuple[str, Path]) -> None:
    url, _ = served
    with pytest.raises(LoadError, match="HTTP 404") as info:
        load(f"{url}/missing.png", timeout=5)
    assert f"{url}/missing.png" in str(info.value)


@pytest.mark.parametrize("path", [_servers.HANG, _servers.TRICKLE])
def test_http_timeout_bounds_the_whole_download(served: tuple[str, Path], path: str) -> None:
    # HANG sends nothing; TRICKLE sends a byte every 0.1 s, so no single read ever times out.
    url, _ = served
    start = time.monotonic()
    with pytest.raises(LoadError, match=r"timed out after 0\.5 s"):
        load(url + path, timeout=0.5)
    assert 0.4 < _servers.elapsed(start) < 3.0


def test_http_short_body_and_refused_connection(served: tuple[str, Path]) -> None:
    url, _ = served
    with pytest.raises(LoadError, match="ended after 50 of 100 bytes"):
        load(url + _servers.SHORT, timeout=5)
    with pytest.raises(LoadError, match="refused"):
        load(f"http://127.0.0.1:{_servers.free_port()}/x", timeout=5)


# -- load: S3 -------------------------------------------------------------------------------


def test_s3_object_and_errors(s3) -> None:
    client, bucket = s3
    body = os.urandom(100_000)
    client.put_object(Bucket=bucket, Key="dir/img #1.png", Body=body)
    assert load(f"s3://{bucket}/dir/img #1.png", timeout=10) == body  # key taken literally
    with pytest.raises(LoadError, match="NoSuchKey") as info:
        load(f"s3://{bucket}/dir/absent.png", timeout=10)
    assert f"s3://{bucket}/dir/absent.png" in str(info.value)
    with pytest.raises(LoadError, match="s3://bucket/key"):
        load(f"s3://{bucket}", timeout=10)


def test_s3_honours_the_service_specific_endpoint(
    s3, monkeypatch: pytest.MonkeyPatch, moto_endpoint: str
) -> None:
    client, bucket = s3
    client.put_object(Bucket=bucket, Key="k", Body=b"via AWS_ENDPOINT_URL_S3")
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_endpoint)
    assert load(f"s3://{bucket}/k", timeout=10) == b"via AWS_ENDPOINT_URL_S3"


def test_s3_without_boto3_says_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)  # import boto3 now raises ImportError
    with pytest.raises(LoadError, match="pip install boto3"):
        load("s3://bucket/key")
    with pytest.raises(InvalidArgumentError, match="pip install boto3"):
        parse_output("s3://bucket/prefix")


# -- describe, resolve_function, function_name ----------------------------------------------


def test_describe_is_short_and_json_safe(tmp_path: Path) -> None:
    assert describe(np.zeros((8, 8), np.float32)) == "array(shape=(8, 8), dtype=float32)"
    assert describe(tmp_path / "a.png") == str(tmp_path / "a.png")
    assert describe("s3://b/k") == "s3://b/k"
    assert describe(b"abc") == "bytes(len=3)"
    long = describe(list(range(1000)))
    assert long.startswith("list([0, 1") and len(long) < 100
    json.dumps([describe(x) for x in (np.ones(3), tmp_path, object())])


def test_resolve_function() -> None:
    assert resolve_function("smartflow.batch.images:preprocess") is preprocess
    assert resolve_function("json:JSONDecoder.decode") is json.JSONDecoder.decode
    assert resolve_function(preprocess) is preprocess


@pytest.mark.parametrize(
    ("spec", "error", "match"),
    [
        ("smartflow.batch.images", InvalidArgumentError, "one colon"),
        ("json:loads:x", InvalidArgumentError, "one colon"),
        (":loads", InvalidArgumentError, "one colon"),
        ("json:", InvalidArgumentError, "one colon"),
        ("json:lo-ads", InvalidArgumentError, "one colon"),
        ("smartflow.no_such_module:f", InvalidArgumentError, "cannot import"),
        ("json:no_such_function", InvalidArgumentError, "has no 'no_such_function'"),
        ("json:JSONDecoder.nope", InvalidArgumentError, r"json\.JSONDecoder has no 'nope'"),
        ("math:pi", UnsupportedTypeError, "not callable"),
        (42, UnsupportedTypeError, "got int"),
    ],
)
def test_resolve_function_refuses(spec: object, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        resolve_function(spec)


def test_function_name_round_trips() -> None:
    assert function_name(preprocess) == "smartflow.batch.images:preprocess"
    name = function_name(module_level_stage)
    assert name == "tests.batch.test_io:module_level_stage"
    assert resolve_function(name) is module_level_stage
    assert function_name(json.JSONDecoder.decode) == "json.decoder:JSONDecoder.decode"
    # A bound class method is made anew by each lookup: equal, not identical.
    assert function_name(Stages.load) == "tests.batch.test_io:Stages.load"
    assert function_name("pkg.mod:fn") == "pkg.mod:fn"  # form only, not imported


def test_function_name_refuses_what_other_processes_cannot_import() -> None:
    def nested(data: bytes) -> bytes:
        return data

    def in_main(data: bytes) -> bytes:
        return data

    in_main.__module__ = "__main__"
    in_main.__qualname__ = "in_main"
    with pytest.raises(InvalidArgumentError, match="lambda"):
        function_name(lambda data: data)
    with pytest.raises(InvalidArgumentError, match="inside a function"):
        function_name(nested)
    with pytest.raises(InvalidArgumentError, match="importable module"):
        function_name(in_main)
    with pytest.raises(InvalidArgumentError, match="module-level"):
        function_name(functools.partial(preprocess, size=[2, 2]))
    with pytest.raises(InvalidArgumentError, match="lead back"):
        function_name(json.JSONDecoder().decode)  # a method of one instance
    with pytest.raises(UnsupportedTypeError):
        function_name(3)
    with pytest.raises(InvalidArgumentError):
        function_name("not a spec")


# -- preprocess -----------------------------------------------------------------------------


def test_preprocess_png_defaults_to_rgb_chw_over_255() -> None:
    image = rgb_image()
    out = preprocess(png_bytes(image))
    assert out.shape == (3, 4, 6) and out.dtype == np.float32
    np.testing.assert_allclose(out, image.transpose(2, 0, 1) / 255, rtol=1e-6)


def test_preprocess_per_channel_normalization_hwc() -> None:
    image = rgb_image()
    # The options as a job ships them: through JSON.
    options = json.loads(
        json.dumps({"mean": [0.5, 0.4, 0.3], "std": [0.2, 0.25, 0.5], "layout": "HWC"})
    )
    out = preprocess(png_bytes(image), **options)
    expected = (image / 255 - [0.5, 0.4, 0.3]) / [0.2, 0.25, 0.5]
    assert out.shape == (4, 6, 3)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


def test_preprocess_grayscale_keeps_a_channel_axis() -> None:
    data = png_bytes(rgb_image())
    gray = np.asarray(Image.open(io.BytesIO(data)).convert("L"))
    chw = preprocess(data, mode="L", scale=1.0)
    assert chw.shape == (1, 4, 6)
    np.testing.assert_array_equal(chw[0], gray)
    assert preprocess(data, mode="L", layout="HWC").shape == (4, 6, 1)


def test_preprocess_resizes_to_height_width() -> None:
    image = rgb_image(4, 6)
    data = png_bytes(image)
    out = preprocess(data, size=[8, 10], scale=1.0, dtype="float64")
    assert out.shape == (3, 8, 10) and out.dtype == np.float64
    pillow = np.asarray(Image.fromarray(image).resize((10, 8), Image.Resampling.BILINEAR))
    # Pillow's uint8 resize rounds; ours works in floats.
    assert np.abs(out.transpose(1, 2, 0) - pillow).max() <= 1.0
    flat = png_bytes(np.full((5, 7, 3), 200, np.uint8))
    np.testing.assert_allclose(preprocess(flat, size=(3, 2), scale=1.0), 200.0, rtol=1e-6)


def test_preprocess_arrays_skip_decoding() -> None:
    gray = (np.arange(12).reshape(3, 4) * 20).astype(np.uint8)
    out = preprocess(gray)
    assert out.shape == (1, 3, 4)
    np.testing.assert_allclose(out[0], gray / 255, rtol=1e-6)
    hwc = np.random.default_rng(0).random((5, 5, 2)).astype(np.float32)
    out = preprocess(hwc, scale=1.0, layout="HWC", size=[5, 5], dtype="float16")
    assert out.dtype == np.float16
    np.testing.assert_allclose(out, hwc, rtol=1e-3)
    assert preprocess(hwc, size=[2, 3]).shape == (2, 2, 3)
    # Options given from Python rather than JSON: numpy numbers and arrays do too.
    out = preprocess(hwc, scale=np.float32(1), mean=np.array([0.5, 0.5]), size=np.array([5, 5]))
    np.testing.assert_allclose(out, hwc.transpose(2, 0, 1) - 0.5, rtol=1e-6)


def test_corrupt_images_are_preprocess_errors() -> None:
    data = png_bytes(rgb_image(16, 16))
    with pytest.raises(PreprocessError, match="cannot decode") as info:
        preprocess(data[: len(data) // 2])  # a truncated PNG
    assert info.value.__cause__ is not None
    with pytest.raises(PreprocessError, match="cannot decode"):
        preprocess(b"not an image at all")
    with pytest.raises(PreprocessError, match="shape"):
        preprocess(np.zeros((2, 2, 2, 2)))
    with pytest.raises(PreprocessError, match="str"):
        preprocess("a/path.png")  # type: ignore[arg-type]
    # Preprocessing may run in a process pool: the error must travel back.
    error = pickle.loads(pickle.dumps(PreprocessError("boom")))
    assert isinstance(error, PreprocessError) and str(error) == "boom"


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"size": [0, 4]}, InvalidArgumentError),
        ({"size": [4]}, UnsupportedTypeError),
        ({"size": [4.0, 4]}, UnsupportedTypeError),
        ({"mode": "XYZ"}, InvalidArgumentError),
        ({"layout": "WHC"}, InvalidArgumentError),
        ({"dtype": "str"}, InvalidArgumentError),
        ({"dtype": "no-such-type"}, UnsupportedTypeError),
        ({"std": 0}, InvalidArgumentError),
        ({"mean": [0.1, 0.2]}, InvalidArgumentError),  # 2 values, 3 channels
        ({"scale": "1/255"}, UnsupportedTypeError),
    ],
)
def test_preprocess_refuses_bad_options(options: dict, error: type) -> None:
    with pytest.raises(error):
        preprocess(png_bytes(rgb_image()), **options)


# -- outputs: parsing -----------------------------------------------------------------------


def test_parse_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_output(None) is None
    assert parse_output("s3://my-bucket/runs/a/") == OutputTarget("s3", "runs/a", "my-bucket")
    assert parse_output("s3://my-bucket") == OutputTarget("s3", "", "my-bucket")
    target = tmp_path / "not" / "yet"
    assert parse_output(target) == OutputTarget("local", str(target))
    assert parse_output(str(target)) == OutputTarget("local", str(target))
    assert parse_output((tmp_path / "x y").as_uri()) == OutputTarget("local", str(tmp_path / "x y"))
    monkeypatch.chdir(tmp_path)
    assert parse_output("rel/dir") == OutputTarget("local", str(tmp_path / "rel" / "dir"))
    assert parse_output("s3://my-bucket/p").url == "s3://my-bucket/p"
    assert not (tmp_path / "not").exists()  # no I/O at parse time


@pytest.mark.parametrize(
    ("output", "error"),
    [
        ("http://example.com/out", InvalidArgumentError),
        ("ftp://example.com/out", InvalidArgumentError),
        ("", InvalidArgumentError),
        ("s3://", InvalidArgumentError),
        ("s3://Bad_Bucket/x", InvalidArgumentError),
        ("file://otherhost/out", InvalidArgumentError),
        (42, UnsupportedTypeError),
        (b"/tmp/out", UnsupportedTypeError),
    ],
)
def test_parse_output_refuses(output: object, error: type) -> None:
    with pytest.raises(error):
        parse_output(output)  # type: ignore[arg-type]


# -- outputs: writing -----------------------------------------------------------------------


def records() -> list[Result]:
    """Three records, the middle one an error; two model outputs (float rows, int scalars)."""
    return [
        Result(0, "s3://b/a.png", "ok", [np.array([0.25, 0.75], np.float32), np.array(3)]),
        Result(1, np.zeros((8, 8), np.float32), "error", None, "load: LoadError: gone"),
        Result(2, Path("/data/c.png"), "ok", [np.array([1.5, -2.0], np.float32), np.array(7)]),
    ]


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_write_split_jsonl(tmp_path: Path) -> None:
    target = parse_output(tmp_path / "deep" / "out")
    where = write_split(target, "job-1", 3, records())
    path = tmp_path / "deep" / "out" / "job-1" / "split-00003.jsonl"
    assert where == str(path)
    assert read_jsonl(path) == [
        {"index": 0, "input": "s3://b/a.png", "status": "ok", "error": None,
         "result": [[0.25, 0.75], 3]},
        {"index": 1, "input": "array(shape=(8, 8), dtype=float32)", "status": "error",
         "error": "load: LoadError: gone", "result": None},
        {"index": 2, "input": "/data/c.png", "status": "ok", "error": None,
         "result": [[1.5, -2.0], 7]},
    ]  # fmt: skip
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_rewriting_a_split_replaces_it_and_leaves_no_temp_files(tmp_path: Path) -> None:
    target = parse_output(tmp_path)
    write_split(target, "job", 0, records())
    again = [Result(0, "x", "error", None, "retried and failed")]
    write_split(target, "job", 0, again)
    assert os.listdir(tmp_path / "job") == ["split-00000.jsonl"]
    assert read_jsonl(tmp_path / "job" / "split-00000.jsonl") == [
        {"index": 0, "input": "x", "status": "error", "error": "retried and failed", "result": None}
    ]


def test_write_split_npy_rows_line_up_with_jsonl(tmp_path: Path) -> None:
    where = write_split(str(tmp_path), "job", 12, records(), fmt="npy")
    job = tmp_path / "job"
    assert where == str(job / "split-00012.jsonl")
    assert sorted(os.listdir(job)) == [
        "split-00012.jsonl", "split-00012.out0.npy", "split-00012.out1.npy",
    ]  # fmt: skip
    lines = read_jsonl(job / "split-00012.jsonl")
    assert [line["index"] for line in lines] == [0, 1, 2]
    assert all("result" not in line for line in lines)
    out0 = np.load(job / "split-00012.out0.npy")
    out1 = np.load(job / "split-00012.out1.npy")
    assert out0.dtype == np.float32 and out0.shape == (3, 2)
    assert out1.dtype.kind == "i" and out1.shape == (3,)
    for row, (line, record) in enumerate(zip(lines, records(), strict=True)):
        if line["status"] == "ok":
            np.testing.assert_array_equal(out0[row], record.result[0])
            assert out1[row] == record.result[1]
        else:
            assert np.isnan(out0[row]).all() and out1[row] == 0
    # An all-error rewrite has no .npy files and must not leave the old ones behind.
    write_split(str(tmp_path), "job", 12, [Result(0, "x", "error", None, "e")], fmt="npy")
    assert os.listdir(job) == ["split-00012.jsonl"]


def test_write_split_npy_refuses_ragged_outputs(tmp_path: Path) -> None:
    ragged = [
        Result(0, "a", "ok", [np.zeros(2)]),
        Result(1, "b", "ok", [np.zeros(3)]),
    ]
    with pytest.raises(InvalidArgumentError, match="different shapes"):
        write_split(tmp_path, "job", 0, ragged, fmt="npy")
    assert not any((tmp_path / "job").glob("*.npy"))


def test_write_summary(tmp_path: Path) -> None:
    summary = {"job": "job", "inputs": np.int64(3), "errors": 1, "seconds": 0.5}
    where = write_summary(tmp_path, "job", summary)
    assert where == str(tmp_path / "job" / "summary.json")
    assert json.loads(Path(where).read_text()) == {
        "job": "job", "inputs": 3, "errors": 1, "seconds": 0.5,
    }  # fmt: skip


def test_unwritable_target_is_an_output_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("in the way")
    with pytest.raises(OutputError, match="cannot write") as info:
        write_split(tmp_path / "file", "job", 0, records())
    assert isinstance(info.value.__cause__, OSError)
    assert os.listdir(tmp_path) == ["file"]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ((None, "job", 0), InvalidArgumentError),
        (("OUT", "a/b", 0), InvalidArgumentError),
        (("OUT", "..", 0), InvalidArgumentError),
        (("OUT", "", 0), InvalidArgumentError),
        (("OUT", 7, 0), UnsupportedTypeError),
        (("OUT", "job", -1), InvalidArgumentError),
        (("OUT", "job", True), UnsupportedTypeError),
    ],
)
def test_write_split_refuses_bad_arguments(tmp_path: Path, args: tuple, error: type) -> None:
    target, job, split = args
    target = tmp_path if target == "OUT" else target
    with pytest.raises(error):
        write_split(target, job, split, records())
    with pytest.raises(InvalidArgumentError, match="fmt"):
        write_split(tmp_path, "job", 0, records(), fmt="csv")
    with pytest.raises(UnsupportedTypeError):
        write_split(tmp_path, "job", 0, ["not a record"])  # type: ignore[list-item]
    assert not (tmp_path / "job").exists()


# -- outputs: S3 ----------------------------------------------------------------------------


def s3_body(client, bucket: str, key: str) -> bytes:
    return client.get_object(Bucket=bucket, Key=key)["Body"].read()


def test_write_split_and_summary_to_s3(s3, moto_endpoint: str, tmp_path: Path) -> None:
    client, bucket = s3
    target = parse_output(f"s3://{bucket}/runs/")
    where = write_split(target, "job", 3, records())
    assert where == f"s3://{bucket}/runs/job/split-00003.jsonl"
    local = Path(write_split(parse_output(tmp_path), "job", 3, records()))
    assert s3_body(client, bucket, "runs/job/split-00003.jsonl") == local.read_bytes()
    # The object is on the server itself (not in some in-process mock): plain HTTP gets it.
    params = {"Bucket": bucket, "Key": "runs/job/split-00003.jsonl"}
    url = client.generate_presigned_url("get_object", Params=params, ExpiresIn=60)
    assert url.startswith(moto_endpoint)
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == local.read_bytes()
    assert load(url, timeout=10) == local.read_bytes()  # an https/http input with a query
    where = write_summary(target, "job", {"ok": 2})
    assert where == f"s3://{bucket}/runs/job/summary.json"
    assert json.loads(s3_body(client, bucket, "runs/job/summary.json")) == {"ok": 2}


def test_write_split_npy_to_s3_and_rewrite(s3) -> None:
    client, bucket = s3
    target = parse_output(f"s3://{bucket}")  # no prefix: keys start at the job
    write_split(target, "job", 0, records(), fmt="npy")
    keys = sorted(o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == ["job/split-00000.jsonl", "job/split-00000.out0.npy", "job/split-00000.out1.npy"]
    out0 = np.load(io.BytesIO(s3_body(client, bucket, "job/split-00000.out0.npy")))
    np.testing.assert_array_equal(out0[[0, 2]], [[0.25, 0.75], [1.5, -2.0]])
    assert np.isnan(out0[1]).all()
    write_split(target, "job", 0, [Result(0, "x", "error", None, "e")], fmt="npy")
    keys = sorted(o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == ["job/split-00000.jsonl"]
    lines = s3_body(client, bucket, "job/split-00000.jsonl").decode().splitlines()
    assert [json.loads(line)["error"] for line in lines] == ["e"]
