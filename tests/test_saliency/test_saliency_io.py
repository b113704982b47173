"""Saliency file format, pseudo-saliency masks, the writer and the
per-pixel background mode of CAMIoUMetric."""
import numpy as np
import pytest
import torch
from PIL import Image

from mmwsss.evaluation import CAMIoUMetric
from mmwsss.evaluation.metrics.saliency_writer import (SaliencyWriter,
                                                       saliency_from_sample)
from mmwsss.inference.saliency import make_pseudo_saliency
from mmwsss.utils.saliency_io import (SaliencyFileError, load_saliency,
                                      save_mask, save_saliency, saliency_path)


def test_round_trip_is_a_grey_png(tmp_path):
    sal = np.random.RandomState(0).rand(7, 9).astype(np.float32)
    path = saliency_path(str(tmp_path), 'img')
    save_saliency(path, torch.from_numpy(sal)[None])
    with Image.open(path) as img:
        assert img.mode == 'L' and img.size == (9, 7)
    np.testing.assert_allclose(load_saliency(path), sal, atol=0.5 / 255)


def test_bad_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.png'):
        load_saliency(str(tmp_path / 'nope.png'))
    rgb = tmp_path / 'rgb.png'
    Image.new('RGB', (4, 4), (10, 200, 10)).save(rgb)
    with pytest.raises(SaliencyFileError, match='rgb.png.*grey'):
        load_saliency(str(rgb))
    palette = tmp_path / 'palette.png'
    Image.new('P', (4, 4)).save(palette)
    with pytest.raises(SaliencyFileError, match='palette.png.*mode "P"'):
        load_saliency(str(palette))
    broken = tmp_path / 'broken.png'
    broken.write_bytes(b'not a png')
    with pytest.raises(SaliencyFileError, match='broken.png'):
        load_saliency(str(broken))
    with pytest.raises(ValueError, match=r'\[0, 1\]'):
        save_saliency(str(tmp_path / 'x.png'), np.full((2, 2), 2.0))


def test_grey_rgb_saliency_is_accepted(tmp_path):
    grey = np.random.RandomState(0).randint(0, 256, (5, 6), np.uint8)
    path = tmp_path / 'grey_rgb.png'
    Image.fromarray(np.stack([grey] * 3, -1), mode='RGB').save(path)
    np.testing.assert_array_equal(load_saliency(str(path)),
                                  grey.astype(np.float32) / 255.0)


def test_pseudo_saliency_threshold_ties_are_background():
    sal = np.array([[0.1, 0.2, 0.21, 0.9]], np.float32)
    mask = make_pseudo_saliency(sal, threshold=0.2)
    assert mask.dtype == np.uint8 and mask.tolist() == [[0, 0, 255, 255]]


def test_pseudo_saliency_crf_snaps_to_the_object():
    """A bright square on a dark background; the saliency blob is shifted
    by 3 px. The 2-label CRF moves the mask back onto the square."""
    rng = np.random.RandomState(0)
    image = np.full((48, 48, 3), 30, np.uint8)
    image[12:36, 12:36] = 220
    image = np.clip(image + rng.randint(-5, 6, image.shape), 0, 255
                    ).astype(np.uint8)
    truth = np.zeros((48, 48), bool)
    truth[12:36, 12:36] = True
    sal = np.zeros((48, 48), np.float32)
    sal[15:39, 15:39] = 0.8

    def iou(mask):
        pred = mask == 255
        return (pred & truth).sum() / (pred | truth).sum()

    plain = make_pseudo_saliency(sal, 0.2)
    refined = make_pseudo_saliency(sal, 0.2, image=image,
                                   crf=dict(preset='crf_label'),
                                   gt_prob=0.7)
    assert set(np.unique(refined)) <= {0, 255}
    assert iou(refined) > iou(plain) + 0.1
    with pytest.raises(ValueError, match='needs the image'):
        make_pseudo_saliency(sal, crf=dict(preset='crf_label'))


def test_save_mask(tmp_path):
    path = str(tmp_path / 'm.png')
    save_mask(path, np.array([[0, 255]], np.uint8))
    with Image.open(path) as img:
        assert img.mode == 'L' and np.asarray(img).tolist() == [[0, 255]]


def test_writer_takes_c2am_and_segmentor_predictions(tmp_path):
    sal = torch.rand(1, 5, 6)
    assert torch.equal(saliency_from_sample(dict(saliency=sal)), sal[0])
    logits = torch.randn(2, 5, 6)
    torch.testing.assert_close(
        saliency_from_sample(dict(seg_logits=dict(data=logits))),
        logits.softmax(0)[1])
    one = torch.randn(1, 5, 6)
    torch.testing.assert_close(
        saliency_from_sample(dict(seg_logits=dict(data=one))),
        one[0].sigmoid())
    with pytest.raises(KeyError, match='seg_logits'):
        saliency_from_sample(dict(cams=sal))

    writer = SaliencyWriter(str(tmp_path / 'out'))
    writer.process({}, [dict(img_path='/d/a.jpg', saliency=sal),
                        dict(img_id='b', seg_logits=dict(data=logits))])
    np.testing.assert_allclose(
        load_saliency(str(tmp_path / 'out' / 'a.png')), sal[0].numpy(),
        atol=0.5 / 255)
    assert (tmp_path / 'out' / 'b.png').is_file()
    assert writer.compute_metrics(writer.results) == dict(written=2.0)


def test_cam_metric_with_a_background_map():
    """argmax([1 - s, cams]) on a hand-made 1×4 image, ties → background."""
    cams = np.array([[[0.9, 0.6, 0.3, 0.5]]], np.float32)  # class 2
    sal = np.array([[0.9, 0.3, 0.9, 0.5]], np.float32)
    gt = np.array([[2, 2, 0, 0]])
    metric = CAMIoUMetric(num_classes=3, background='map')
    areas = metric.sample_areas(cams, np.array([2]), gt,
                                background=1.0 - sal)
    metric.results.append(areas)
    # fg where cam > 1 - s: [0.9>0.1, 0.6>0.7 no, 0.3>0.1, 0.5>0.5 no (tie)]
    # pred = [2, 0, 2, 0] vs gt [2, 2, 0, 0]: IoU bg 1/3, class 2 1/3
    result = metric.compute_metrics(metric.results)
    assert result['mIoU'] == pytest.approx(100 / 3, abs=0.01)
    assert 'best_threshold' not in result
    with pytest.raises(ValueError, match='background map'):
        metric.sample_areas(cams, np.array([2]), gt)
    with pytest.raises(ValueError, match='no thresholds'):
        CAMIoUMetric(background='map', threshold=0.3)
    with pytest.raises(ValueError, match='background map'):
        CAMIoUMetric(num_classes=3, thresholds=[0.3]).sample_areas(
            cams, np.array([2]), gt, background=1.0 - sal)


def test_cam_metric_map_mode_in_process():
    metric = CAMIoUMetric(num_classes=3, background='map')
    sample = dict(cams=torch.tensor([[[0.9, 0.1]]]), cam_keys=torch.tensor(
        [1]), gt_sem_seg=dict(data=torch.tensor([[[1, 0]]])),
        background=torch.tensor([[0.5, 0.5]]))
    metric.process({}, [sample])
    assert metric.compute_metrics(metric.results)['mIoU'] == 100.0
    del sample['background']
    with pytest.raises(KeyError, match='background'):
        metric.process({}, [sample])
