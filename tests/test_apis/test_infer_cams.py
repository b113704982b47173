"""mmwsss.apis.infer_cams: one image through the test path of
tools/infer_cams.py (test pipeline, test_step, the model's TTA)."""
import glob
import os.path as osp

import numpy as np
import pytest
import torch
from PIL import Image

from mmwsss.apis import infer_cams, init_model
from mmwsss.utils.cam_io import read_cam
from tests.conftest import CAM_CONFIG, REPO, data_opts, load_tool

FAST = {'model.test_cfg.scales': [1.0, 0.5]}
PNOC_CONFIG = osp.join(REPO, 'configs', 'pnoc', 'pnoc_tiny_synthetic.py')
C2AM_CONFIG = osp.join(REPO, 'configs', 'c2am', 'c2am_tiny_synthetic.py')
#: The CAM files store round(255·cam).
QUANTUM = 0.5 / 255 + 1e-5


@pytest.fixture(scope='module')
def model():
    return init_model(CAM_CONFIG, cfg_options=FAST)


@pytest.fixture
def image(tmp_path):
    """(PNG path, its RGB pixels): lossless, so the file and the array
    hold the same bytes."""
    rgb = np.random.default_rng(0).integers(0, 256, (37, 53, 3), np.uint8)
    path = str(tmp_path / 'image.png')
    Image.fromarray(rgb).save(path)
    return path, rgb


def assert_same(a, b):
    np.testing.assert_array_equal(a.keys, b.keys)
    np.testing.assert_array_equal(a.cams, b.cams)
    np.testing.assert_array_equal(a.coarse, b.coarse)
    assert a.coarse_stride == b.coarse_stride


def test_path_and_arrays_give_the_same_cams(model, image):
    path, rgb = image
    result = infer_cams(model, path, labels=[5, 2])
    assert result.keys.tolist() == [2, 5]
    assert result.cams.shape == (2, 37, 53)
    assert result.cams.dtype == np.float32
    assert result.cams.min() >= 0 and result.cams.max() <= 1
    assert result.coarse.shape == (2, 10, 14) and result.coarse_stride == 4
    assert_same(result, infer_cams(model, rgb[..., ::-1], labels=[2, 5]))
    assert_same(result, infer_cams(model, rgb, labels=[2, 5],
                                   channel_order='rgb'))


def test_background_only_image_has_no_maps(model, image):
    result = infer_cams(model, image[0], labels=[])
    assert result.cams.shape == (0, 37, 53) and result.keys.size == 0


def test_matches_the_files_of_tools_infer_cams(synthetic_root, tmp_path):
    """The CAM files tools/infer_cams.py writes for a checkpoint are the
    API's maps of those images and their labels (up to the files' 8-bit
    quantisation)."""
    ckpt = str(tmp_path / 'ckpt.pth')
    torch.save(dict(state_dict=init_model(CAM_CONFIG).state_dict()), ckpt)
    out = str(tmp_path / 'cams')
    opts = data_opts(synthetic_root, 1, 'model.test_cfg.scales=[1.0,0.5]')
    tool = load_tool('infer_cams')
    assert tool.main([CAM_CONFIG, ckpt, '--out-dir', out, '--work-dir',
                      str(tmp_path / 'work'), *opts]) == 0
    files = sorted(glob.glob(osp.join(out, '*.npz')))
    assert files
    model = init_model(CAM_CONFIG, ckpt, cfg_options=FAST)
    for path in files:
        stored = read_cam(path)
        img_id = osp.basename(path)[:-len('.npz')]
        got = infer_cams(
            model, osp.join(synthetic_root, 'JPEGImages', f'{img_id}.jpg'),
            labels=stored.keys)
        np.testing.assert_array_equal(got.keys, stored.keys)
        np.testing.assert_allclose(got.cams, stored.cams, atol=QUANTUM)
        np.testing.assert_allclose(got.coarse, stored.coarse, atol=QUANTUM)
        assert got.coarse_stride == stored.coarse_stride


def test_pnoc_model_infers_with_its_generator(tmp_path, image):
    pnoc = init_model(PNOC_CONFIG,
                      cfg_options={'model.generator.test_cfg.scales': [1.0]})
    ckpt = str(tmp_path / 'pnoc.pth')
    torch.save(dict(state_dict=pnoc.state_dict()), ckpt)
    cam = init_model(CAM_CONFIG, ckpt,
                     cfg_options={'model.test_cfg.scales': [1.0]})
    assert_same(infer_cams(pnoc, image[0], labels=[1, 3]),
                infer_cams(cam, image[0], labels=[1, 3]))


def test_predicted_classes_take_no_labels(image):
    model = init_model(CAM_CONFIG, cfg_options=dict(
        FAST, **{'model.test_cfg.keys': 'pred',
                 'model.test_cfg.pred_threshold': 0.0}))
    result = infer_cams(model, image[0])
    assert result.keys.tolist() == [1, 2, 3, 4, 5, 6]  # every score > 0
    with pytest.raises(ValueError, match="keys='pred'.*labels=None"):
        infer_cams(model, image[0], labels=[1])


def test_saliency_model_gives_one_map(image):
    model = init_model(C2AM_CONFIG, cfg_options=FAST)
    result = infer_cams(model, image[0])
    assert result.keys.tolist() == [1] and result.cams.shape == (1, 37, 53)
    with pytest.raises(ValueError, match='takes no labels'):
        infer_cams(model, image[0], labels=[1])


@pytest.mark.parametrize('labels, match', [
    (None, 'labels .* are required'),
    ([0, 2], r'class ids in 1\.\.6'),
    ([7], r'class ids in 1\.\.6'),
    ([1.0], 'integer class ids'),
    ([[1, 2]], 'integer class ids'),
])
def test_bad_labels_are_refused(model, image, labels, match):
    with pytest.raises(ValueError, match=match):
        infer_cams(model, image[0], labels=labels)


def test_bad_images_are_refused(model, image, tmp_path):
    missing = str(tmp_path / 'missing.jpg')
    with pytest.raises(FileNotFoundError, match='missing.jpg'):
        infer_cams(model, missing, labels=[1])
    with pytest.raises(ValueError, match='H×W×3 uint8'):
        infer_cams(model, image[1][..., 0], labels=[1])
    with pytest.raises(ValueError, match='H×W×3 uint8'):
        infer_cams(model, image[1].astype(np.float32), labels=[1])
    with pytest.raises(TypeError, match='file path or an'):
        infer_cams(model, 3, labels=[1])
    with pytest.raises(ValueError, match='channel_order'):
        infer_cams(model, image[1], labels=[1], channel_order='gbr')


def test_model_needs_its_config(image):
    bare = init_model(CAM_CONFIG, cfg_options=FAST)
    del bare.cfg
    with pytest.raises(ValueError, match='init_model'):
        infer_cams(bare, image[0], labels=[1])
