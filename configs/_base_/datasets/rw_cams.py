# Random-walk inference under mmengine's Runner (README: random walk),
# shared by
# the AffinityNet configs: the test split's images with their stored CAMs
# (LoadCAMs: the file's maps and class ids, and the stride-4 maps the walk
# starts from), walked by AffinityNet.predict (settings: model.test_cfg) and
# saved by CAMWriter in the CAM file format. A config uses it as
#   test_dataloader = dict(dataset=dict(pipeline=_base_.rw_test_pipeline))
#   test_evaluator = dict(_base_.rw_test_evaluator, _delete_=True)
# tools/infer_rw.py sets both folders (--cam-dir, --out-dir); tools/test.py
# takes them as --cfg-options test_dataloader.dataset.pipeline.1.cam_dir=CAMS
# test_evaluator.out_dir=RW.
rw_cam_dir = 'work_dirs/cams'
rw_out_dir = 'work_dirs/rw'
rw_test_pipeline = [
    dict(type='LoadImageFromFile'),
    # no resize: the CAMs and the walk are at the image's own size
    dict(type='LoadCAMs', cam_dir=rw_cam_dir, reduce='keys', coarse_stride=4),
    dict(type='PackWSSSInputs'),
]
rw_test_evaluator = dict(type='CAMWriter', out_dir=rw_out_dir)
