"""The P-NOC pipeline (README: pipeline) as
:class:`~mmwsss.pipeline.runner.Stage`s.

vanilla CAM → P-NOC → CAM inference → C²AM-H → saliency refinement →
affinity labels → AffinityNet → random walk → pseudo-masks → segmentation
(→ optionally the same segmentor on the true masks: the fully supervised
ceiling). Every stage calls the project's own tools with the stage configs
named in a pipeline config (``configs/pipelines/*.py``); folders:

=======================  ==============================================
``{work}/vanilla``       vanilla CAM training (the ordinary classifier)
``{work}/pnoc``          P-NOC training
``{work}/cams/{split}``  CAM files (``.npz``)
``{work}/c2am``          C²AM-H training
``{work}/saliency/*``    raw C²AM-H maps, pseudo-saliency masks, refined
``{work}/affinity*``     affinity labels, AffinityNet training
``{work}/rw/{split}``    random-walk maps (CAM file format)
``{work}/pseudo_masks``  the pseudo-mask PNGs the segmentor trains on
``{work}/segmentation``  the final segmentor; ``supervised``: on GT
``{work}/metrics``       one JSON per evaluation (the demo's table)
=======================  ==============================================
"""
import json
import os.path as osp
import sys
from typing import Dict, List, Optional

from mmengine.config import Config

from .runner import Command, PipelineError, Stage

LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
# folders (under the work dir) each stage writes
OUTPUTS = dict(
    vanilla=['vanilla'],
    pnoc=['pnoc'],
    woods=['woods'],
    cams=['cams', 'cams_vanilla'],
    c2am=['c2am'],
    saliency=['saliency/c2am', 'saliency/pseudo'],
    saliency_refine=['saliency_refine', 'saliency/refined'],
    affinity_labels=['affinity_labels'],
    affinity=['affinity'],
    rw=['rw'],
    pseudo_masks=['pseudo_masks'],
    segmentation=['segmentation'],
    supervised=['supervised'],
)


class PNOCPipeline:
    """Builds the stages of the P-NOC pipeline.

    The CAMs every later stage starts from come from the *prior* stage
    (:attr:`PRIOR`, here ``pnoc``); subclasses replace that stage and keep
    the rest (:class:`~mmwsss.pipeline.woods.WOoDPipeline`).

    Args:
        cfg: the pipeline config (``configs/pipelines/pnoc_voc.py``).
        root: repository root.
        work_dir: the pipeline's work folder.
        data_root: overrides ``cfg.data_root``.
        gpus: processes per training/inference command (> 1 launches
            ``torch.distributed.run``).
        python: interpreter for the tools.
    """

    #: the stage whose checkpoint makes the CAMs (its config also scores
    #: the CAM-format maps of later stages)
    PRIOR = 'pnoc'
    PRIOR_TITLE = 'train P-NOC (generator + noc, alternately)'

    def __init__(self, cfg: Config, root: str, work_dir: str,
                 data_root: Optional[str] = None, gpus: int = 1,
                 python: str = sys.executable) -> None:
        self.cfg = cfg
        self.root = root
        self.work = work_dir
        self.data_root = data_root or cfg.data_root
        self.gpus = int(gpus)
        self.python = python
        self.splits = cfg.splits
        self.port = 29500

    # ------------------------------------------------------------ helpers
    def path(self, *parts: str) -> str:
        return osp.join(self.work, *parts)

    def data_options(self, config: str, extra: Optional[Dict] = None
                     ) -> List[str]:
        """``--cfg-options`` pointing every dataloader of ``config`` at the
        data root (and ``extra`` key=value pairs)."""
        cfg = Config.fromfile(osp.join(self.root, config))
        opts = [
            f'{loader}.dataset.data_root={self.data_root}'
            for loader in LOADERS if cfg.get(loader)
            and 'dataset' in cfg[loader]
        ]
        opts += [f'{k}={v}' for k, v in (extra or {}).items()]
        return ['--cfg-options', *opts] if opts else []

    def launch(self, tool: str, *args: str, distributed: bool = True
               ) -> List[str]:
        """argv running ``tools/{tool}.py``, under torch.distributed.run
        with ``--launcher pytorch`` when ``gpus > 1``."""
        script = f'tools/{tool}.py'
        if self.gpus > 1 and distributed:
            self.port += 1
            return [
                self.python, '-m', 'torch.distributed.run',
                f'--nproc_per_node={self.gpus}', f'--master_port={self.port}',
                script, *args, '--launcher', 'pytorch'
            ]
        return [self.python, script, *args]

    def checkpoint(self, stage_dir: str) -> str:
        """The checkpoint a training stage saved last."""
        marker = osp.join(self.root, stage_dir, 'last_checkpoint')
        if not osp.isfile(marker):
            raise FileNotFoundError(
                f'{marker} not found: its training stage has not finished')
        with open(marker) as f:
            return f.read().strip()

    def train(self, config: str, work: str,
              extra: Optional[Dict] = None) -> Command:
        return Command(
            self.launch('train', config, '--work-dir', work,
                        *self.data_options(config, extra)))

    def img_dir(self) -> str:
        return osp.join(self.data_root, self.cfg.img_dir)

    def stage_cfg(self, name: str) -> dict:
        return self.cfg.stages.get(name) or {}

    def prior_config(self) -> str:
        """The config of the prior stage (CAM inference and scoring)."""
        config = self.stage_cfg(self.PRIOR).get('config')
        if not config:
            raise PipelineError(
                f'the pipeline config needs stages.{self.PRIOR}.config (the '
                'classifier whose CAMs the later stages refine)')
        return config

    # ------------------------------------------------------------- stages
    def stages(self) -> List[Stage]:
        """The configured stages in order. A stage set to None in the
        pipeline config is left out (e.g. ``c2am=None``: no saliency, the
        affinity labels use CAM thresholds only; ``affinity=None``:
        pseudo-masks straight from the CAMs)."""
        st = self.cfg.stages
        candidates = [
            ('vanilla', 'train the ordinary (vanilla CAM) classifier',
             self.build_vanilla),
            (self.PRIOR, self.PRIOR_TITLE,
             getattr(self, f'build_{self.PRIOR}')),
            ('cams', 'infer TTA CAMs and evaluate them', self.build_cams),
            ('c2am', 'train C²AM-H (class-agnostic saliency from CAM '
             'hints)', self.build_c2am),
            ('saliency', 'infer saliency, make pseudo-saliency masks',
             self.build_saliency),
            ('saliency_refine', 'refine saliency with a stock MMSeg '
             'segmentor trained on the pseudo-saliency masks',
             self.build_saliency_refine),
            ('affinity_labels', 'affinity labels from CAMs (+ saliency)',
             self.build_affinity_labels),
            ('affinity', 'train AffinityNet', self.build_affinity),
            ('rw', 'random walk of the CAMs', self.build_rw),
            ('pseudo_masks', 'pseudo-masks for the segmentor',
             self.build_pseudo_masks),
            ('segmentation', 'train the segmentor on the pseudo-masks, '
             'evaluate it', self.build_segmentation),
            ('supervised', 'the same segmentor on the true masks (the '
             'fully supervised ceiling)', self.build_supervised),
        ]
        stages = []
        for name, title, build in candidates:
            if not st.get(name) and name not in ('cams', 'saliency', 'rw',
                                                  'affinity_labels'):
                continue
            if name in ('saliency', 'saliency_refine') and not st.get('c2am'):
                continue
            if name in ('affinity_labels', 'rw') and not st.get('affinity'):
                continue
            stages.append(
                Stage(name, title, build,
                      [self.path(*o.split('/')) for o in OUTPUTS[name]]))
        return stages

    def build_vanilla(self) -> List[Command]:
        st = self.stage_cfg('vanilla')
        return [self.train(st['config'], self.path('vanilla'),
                           st.get('options'))]

    def build_pnoc(self) -> List[Command]:
        st = self.stage_cfg('pnoc')
        vanilla = self.checkpoint(self.path('vanilla'))
        model = Config.fromfile(osp.join(self.root, st['config'])).model
        # the vanilla run initialises the second classifier: `noc` (P-NOC)
        # or `oc` (OC-CSE, P-OC); Puzzle-CAM has none
        extra = {f'model.{key}_checkpoint': vanilla
                 for key in ('noc', 'oc') if model.get(key)}
        if st.get('generator_from_vanilla', False):
            extra['model.generator.pretrained'] = vanilla
        extra.update(st.get('options') or {})
        return [self.train(st['config'], self.path('pnoc'), extra)]

    def cam_dir(self, split: str) -> str:
        return self.path('cams', split)

    def build_cams(self) -> List[Command]:
        """TTA CAMs of the prior's checkpoint, scored on the eval split.
        ``cams=dict(config=...)`` infers with another config of the same
        model (e.g. AdvCAM: ``test_cfg.cam_mode``); ``options`` are extra
        ``--cfg-options`` of the inference, after the prior stage's
        ``model.*`` options (:meth:`prior_model_options`)."""
        st = self.stage_cfg('cams')
        config = st.get('config') or self.prior_config()
        ckpt = self.checkpoint(self.path(self.PRIOR))
        opts = self.data_options(config, {**self.prior_model_options(),
                                          **(st.get('options') or {})})
        cmds = [
            Command(
                self.launch('infer_cams', config, ckpt, '--out-dir',
                            self.cam_dir(split), '--split', split,
                            '--work-dir', self.path(self.PRIOR, 'infer'),
                            *opts))
            for split in self.cam_splits()
        ]
        cmds.append(
            Command([
                self.python, 'tools/eval_cams.py', config, '--cam-dir',
                self.cam_dir(self.splits.train), '--split',
                self.splits.eval, '--curve-out',
                self.path('metrics', 'cams_curve.json'), *opts
            ], metrics='cams'))
        if self.stage_cfg('cams').get('compare_vanilla'):
            cmds += self.build_vanilla_cams()
        return cmds

    def prior_model_options(self) -> Dict:
        """The ``model.*`` options of the prior stage: CAM inference with
        the prior's own config must build the model its run saved (e.g.
        ``model.num_clusters`` of W-OoD changes a buffer's shape)."""
        options = self.stage_cfg(self.PRIOR).get('options') or {}
        return {key: value for key, value in options.items()
                if key.startswith('model.')}

    def build_vanilla_cams(self) -> List[Command]:
        """Infer and score the vanilla classifier's CAMs on the eval split
        too (``cams=dict(compare_vanilla=True)``: P-NOC vs its baseline)."""
        config = self.stage_cfg('vanilla')['config']
        ckpt = self.checkpoint(self.path('vanilla'))
        opts = self.data_options(config)
        out = self.path('cams_vanilla', self.splits.eval)
        return [
            Command(
                self.launch('infer_cams', config, ckpt, '--out-dir', out,
                            '--split', self.splits.eval, '--work-dir',
                            self.path('vanilla', 'infer'), *opts)),
            Command([
                self.python, 'tools/eval_cams.py', config, '--cam-dir', out,
                '--split', self.splits.eval, '--curve-out',
                self.path('metrics', 'vanilla_cams_curve.json'), *opts
            ], metrics='vanilla_cams')
        ]

    def cam_splits(self) -> List[str]:
        return [self.splits.train] + ([self.splits.val]
                                      if self.splits.get('val') else [])

    def build_c2am(self) -> List[Command]:
        st = self.stage_cfg('c2am')
        extra = {
            # the LoadCAMHint step of the C²AM-H configs' train pipeline
            f'train_dataloader.dataset.pipeline.{st.get("hint_step", 1)}'
            '.cam_dir': self.cam_dir(self.splits.train)
        }
        if st.get('backbone_from_vanilla', False):
            extra['model.pretrained'] = self.checkpoint(self.path('vanilla'))
        extra.update(st.get('options') or {})
        return [self.train(st['config'], self.path('c2am'), extra)]

    def infer_saliency(self, config: str, ckpt: str, out: str,
                       work: str) -> Command:
        return Command(
            self.launch('infer_saliency', config, ckpt, '--out-dir', out,
                        '--split', self.splits.train, '--work-dir', work,
                        *self.data_options(config)))

    def eval_saliency(self, sal_dir: str, metrics: str) -> Command:
        config = self.stage_cfg('c2am')['config']
        return Command([
            self.python, 'tools/eval_saliency.py', config, '--sal-dir',
            sal_dir, '--cam-dir', self.cam_dir(self.splits.train), '--split',
            self.splits.eval, '--workers', '2', *self.data_options(config)
        ], metrics=metrics)

    def build_saliency(self) -> List[Command]:
        st = self.stage_cfg('saliency')
        config = self.stage_cfg('c2am')['config']
        raw = self.path('saliency', 'c2am')
        pseudo = self.path('saliency', 'pseudo')
        cmds = [
            self.infer_saliency(config, self.checkpoint(self.path('c2am')),
                                raw, self.path('c2am', 'infer')),
            self.eval_saliency(raw, 'saliency')
        ]
        if self.cfg.stages.get('saliency_refine'):
            cmd = [
                self.python, 'tools/make_pseudo_saliency.py', '--sal-dir',
                raw, '--out-dir', pseudo, '--threshold',
                str(st.get('threshold', 0.2)), '--workers',
                str(st.get('workers', 2))
            ]
            if st.get('crf', True):
                cmd += [
                    '--crf', '--img-dir', self.img_dir(), '--img-suffix',
                    self.cfg.img_suffix, '--crf-gt-prob',
                    str(st.get('crf_gt_prob', 0.7))
                ]
            cmds.append(Command(cmd))
        return cmds

    def build_saliency_refine(self) -> List[Command]:
        st = self.stage_cfg('saliency_refine')
        config = st['config']
        work = self.path('saliency_refine')
        extra = {'train_dataloader.dataset.data_prefix.seg_map_path':
                 osp.abspath(self.path('saliency', 'pseudo'))}
        extra.update(st.get('options') or {})
        out = self.path('saliency', 'refined')
        return [
            self.train(config, work, extra),
            Command(build=lambda: self.infer_saliency(
                config, self.checkpoint(work), out,
                osp.join(work, 'infer')).resolve()),
            self.eval_saliency(out, 'saliency_refine')
        ]

    def saliency_dir(self) -> Optional[str]:
        """The saliency maps the affinity labels use: the refined ones when
        the pipeline refines, else the C²AM-H maps, else None."""
        if self.cfg.stages.get('saliency_refine'):
            return self.path('saliency', 'refined')
        if self.cfg.stages.get('c2am'):
            return self.path('saliency', 'c2am')
        return None

    def build_affinity_labels(self) -> List[Command]:
        st = self.stage_cfg('affinity_labels')
        config = self.stage_cfg('affinity')['config']
        out = self.path('affinity_labels')
        cmd = [
            self.python, 'tools/make_affinity_labels.py', '--cam-dir',
            self.cam_dir(self.splits.train), '--out-dir', out, '--config',
            config, '--split', self.splits.train, '--fg-threshold',
            str(st.get('fg_threshold', 0.4)), '--bg-threshold',
            str(st.get('bg_threshold', 0.1)), '--crf-gt-prob',
            str(st.get('crf_gt_prob', 0.7)), '--workers',
            str(st.get('workers', 2))
        ]
        if not st.get('crf', True):
            cmd.append('--no-crf')
        if self.saliency_dir():
            cmd += ['--sal-dir', self.saliency_dir()]
        cmd += self.data_options(config)
        return [
            Command(cmd),
            Command([
                self.python, 'tools/eval_masks.py', config, '--mask-dir',
                out, '--split', self.splits.eval, '--ignore-pred',
                *self.data_options(config)
            ], metrics='affinity_labels')
        ]

    def build_affinity(self) -> List[Command]:
        st = self.stage_cfg('affinity')
        extra = {'train_dataloader.dataset.data_prefix.seg_map_path':
                 osp.abspath(self.path('affinity_labels'))}
        if st.get('backbone_from_vanilla', False):
            extra['model.pretrained'] = self.checkpoint(self.path('vanilla'))
        extra.update(st.get('options') or {})
        return [self.train(st['config'], self.path('affinity'), extra)]

    def build_rw(self) -> List[Command]:
        """Walk the train split's CAMs (``tools/infer_rw.py``, a Runner
        logging to ``affinity/infer``); the keys of the ``rw`` stage
        (beta, exp_times, radius, method, normalize, damp_edges, cam_power)
        override the AffinityNet config's ``model.test_cfg``, ``options``
        are extra ``--cfg-options``."""
        st = dict(self.stage_cfg('rw'))
        config = self.stage_cfg('affinity')['config']
        ckpt = self.checkpoint(self.path('affinity'))
        out = self.path('rw', self.splits.train)
        extra = {f'model.test_cfg.{key}': value
                 for key, value in st.items()
                 if key != 'options' and value is not None}
        extra.update(st.get('options') or {})
        prior_config = self.prior_config()
        return [
            Command(
                self.launch('infer_rw', config, ckpt, '--cam-dir',
                            self.cam_dir(self.splits.train), '--out-dir', out,
                            '--split', self.splits.train, '--work-dir',
                            self.path('affinity', 'infer'),
                            *self.data_options(config, extra))),
            Command([
                self.python, 'tools/eval_cams.py', prior_config, '--cam-dir',
                out, '--split', self.splits.eval, '--curve-out',
                self.path('metrics', 'rw_curve.json'),
                *self.data_options(prior_config)
            ], metrics='rw')
        ]

    def build_pseudo_masks(self) -> List[Command]:
        st = self.stage_cfg('pseudo_masks')
        source = st.get('source', 'rw')
        src_dir = (self.path('rw', self.splits.train)
                   if source == 'rw' else self.cam_dir(self.splits.train))
        out = self.path('pseudo_masks')
        config = self.prior_config()
        # every image of the split, background-only ones included: the
        # segmentor trains on the split's whole list
        cmd = [
            self.python, 'tools/make_pseudo_masks.py', '--cam-dir', src_dir,
            '--out-dir', out, '--threshold', self.mask_threshold(st, source),
            '--config', config, '--split', self.splits.train, '--workers',
            str(st.get('workers', 2)), *self.data_options(config)
        ]
        if st.get('crf', True):
            cmd += [
                '--crf', '--img-dir', self.img_dir(), '--img-suffix',
                self.cfg.img_suffix, '--crf-gt-prob',
                str(st.get('crf_gt_prob', 0.9))
            ]
            if st.get('crf_iterations'):
                cmd += ['--crf-iterations', str(st['crf_iterations'])]
        return [
            Command(cmd),
            Command([
                self.python, 'tools/eval_masks.py', config, '--mask-dir', out,
                '--split', self.splits.eval, *self.data_options(config)
            ], metrics='pseudo_masks')
        ]

    def mask_threshold(self, st: dict, source: str) -> str:
        """The background threshold of the pseudo-masks: a number, or
        ``'best'``: the best threshold of the source maps' evaluation sweep
        on the eval split (an oracle choice against GT, as papers tune it;
        use it only where that is acceptable, e.g. the demo)."""
        threshold = st.get('threshold', 0.3)
        if threshold != 'best':
            return str(float(threshold))
        path = osp.join(self.work, 'metrics', f'{source}.json')
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'{path} not found: threshold="best" needs the evaluation '
                f'of the {source} stage')
        with open(path) as f:
            return str(json.load(f)['cam/best_threshold'])

    def segmentation_commands(self, name: str, seg_map_path: str
                              ) -> List[Command]:
        st = self.stage_cfg('segmentation')
        config = st['config']
        work = self.path(name)
        extra = {'train_dataloader.dataset.data_prefix.seg_map_path':
                 seg_map_path}
        if st.get('backbone_from_vanilla', False):
            # non-strict load: the CAM classifier's backbone.* keys only
            extra['load_from'] = self.checkpoint(self.path('vanilla'))
        extra.update(st.get('options') or {})
        cmds = [self.train(config, work, extra)]

        def build_test() -> List[str]:
            args = [config, self.checkpoint(work), '--work-dir',
                    osp.join(work, 'test'), '--out', osp.join(work, 'pred')]
            if st.get('tta'):
                args.append('--tta')
            if st.get('crf'):
                args.append('--crf')
            return self.launch('test', *args, *self.data_options(
                config, st.get('options')))

        return cmds + [Command(build=build_test, metrics=name)]

    def build_segmentation(self) -> List[Command]:
        return self.segmentation_commands('segmentation',
                                          osp.abspath(self.path(
                                              'pseudo_masks')))

    def build_supervised(self) -> List[Command]:
        return self.segmentation_commands(
            'supervised', self.stage_cfg('supervised')['seg_map_path'])
