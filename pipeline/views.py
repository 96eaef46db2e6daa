"""Per-task SQLite views a person can read without joins."""

VIEWS = {
    "classification": """
SELECT r.result_id, f.name AS family, b.name AS backbone, b.params_m, r.checkpoint_id,
       pd.name AS pretrain_dataset, pm.name AS pretrain_method, r.chain,
       ed.name AS eval_dataset, r.eval_resolution_px, r.top1, r.top5, r.mce, r.gmacs,
       s.title AS source, s.published, r."where", r."where" AS where_in_source,
       ad.name AS adaptation, tt.name AS test_time, r.test_crops, r.crop_ratio, r.eval_split, r.split_kind,
       r.training_data_seen, r.extra_training_data, r.citations, r.conflict, r.gmacs_scope,
       b.first_published AS backbone_first_published
FROM classification_results r
JOIN checkpoints c ON c.checkpoint_id = r.checkpoint_id
JOIN backbones b ON b.backbone_id = c.backbone_id
JOIN families f ON f.family_id = b.family_id
JOIN datasets pd ON pd.dataset_id = c.pretrain_dataset_id
JOIN pretraining_methods pm ON pm.pretraining_method_id = c.pretrain_method_id
JOIN datasets ed ON ed.dataset_id = r.eval_dataset_id
JOIN sources s ON s.source_id = r.source_id
JOIN adaptations ad ON ad.adaptation_id = r.adaptation_id
LEFT JOIN test_time_procedures tt ON tt.test_time_id = r.test_time_id""",
    "detection": """
SELECT r.result_id, f.name AS family, b.name AS backbone, b.params_m, r.checkpoint_id,
       pd.name AS pretrain_dataset, pm.name AS pretrain_method, h.name AS head, r.chain,
       r.train_epochs, ed.name AS eval_dataset, r.eval_split, r.box_ap, r.box_ap50, r.box_ap75,
       r.box_ap_s, r.box_ap_m, r.box_ap_l, r.mask_ap, r.mask_ap50, r.mask_ap75, r.mask_ap_s,
       r.mask_ap_m, r.mask_ap_l, r.gmacs, r.input_size, s.title AS source, s.published, r."where", r."where" AS where_in_source,
       ad.name AS adaptation, tt.name AS test_time, r.split_kind, r.training_data_seen, r.extra_training_data,
       r.citations, r.conflict, r.gmacs_scope, b.first_published AS backbone_first_published
FROM detection_results r
JOIN checkpoints c ON c.checkpoint_id = r.checkpoint_id
JOIN backbones b ON b.backbone_id = c.backbone_id
JOIN families f ON f.family_id = b.family_id
JOIN datasets pd ON pd.dataset_id = c.pretrain_dataset_id
JOIN pretraining_methods pm ON pm.pretraining_method_id = c.pretrain_method_id
JOIN heads h ON h.head_id = r.head_id
JOIN datasets ed ON ed.dataset_id = r.eval_dataset_id
JOIN sources s ON s.source_id = r.source_id
JOIN adaptations ad ON ad.adaptation_id = r.adaptation_id
LEFT JOIN test_time_procedures tt ON tt.test_time_id = r.test_time_id""",
    "semantic_segmentation": """
SELECT r.result_id, f.name AS family, b.name AS backbone, b.params_m, r.checkpoint_id,
       pd.name AS pretrain_dataset, pm.name AS pretrain_method, h.name AS head, r.chain,
       r.train_iterations, ed.name AS eval_dataset, r.crop_px, r.miou_ss, r.miou_ms,
       r.pixel_acc, r.mean_acc, r.gmacs, r.input_size, s.title AS source, s.published, r."where", r."where" AS where_in_source,
       ad.name AS adaptation, tt.name AS test_time, r.eval_split, r.split_kind, r.training_data_seen,
       r.extra_training_data, r.citations, r.conflict, r.gmacs_scope, b.first_published AS backbone_first_published
FROM segmentation_results r
JOIN checkpoints c ON c.checkpoint_id = r.checkpoint_id
JOIN backbones b ON b.backbone_id = c.backbone_id
JOIN families f ON f.family_id = b.family_id
JOIN datasets pd ON pd.dataset_id = c.pretrain_dataset_id
JOIN pretraining_methods pm ON pm.pretraining_method_id = c.pretrain_method_id
JOIN heads h ON h.head_id = r.head_id
JOIN datasets ed ON ed.dataset_id = r.eval_dataset_id
JOIN sources s ON s.source_id = r.source_id
JOIN adaptations ad ON ad.adaptation_id = r.adaptation_id
LEFT JOIN test_time_procedures tt ON tt.test_time_id = r.test_time_id""",
    "throughput_figures": """
SELECT t.throughput_id, f.name AS family, b.name AS backbone, b.params_m, t.task_id AS task,
       h.name AS head, t.resolution_px, t.input_size, g.name AS gpu, p.name AS precision,
       t.batch_size, t.images_per_s, s.title AS source, s.published, t."where", t."where" AS where_in_source,
       t.memory_layout, t.compile_mode, t.framework, t.context_where
FROM throughput t
JOIN backbones b ON b.backbone_id = t.backbone_id
JOIN families f ON f.family_id = b.family_id
LEFT JOIN heads h ON h.head_id = t.head_id
JOIN gpus g ON g.gpu_id = t.gpu_id
JOIN precisions p ON p.precision_id = t.precision_id
JOIN sources s ON s.source_id = t.source_id""",
}
VIEWS["latency_figures"] = """
SELECT l.latency_id, f.name AS family, b.name AS backbone, b.params_m, l.task_id AS task,
       h.name AS head, l.resolution_px, l.input_size, d.name AS device, rt.name AS runtime,
       p.name AS precision, l.batch_size, l.latency_ms, s.title AS source, s.published, l."where", l."where" AS where_in_source, l.context_where
FROM latency l
JOIN backbones b ON b.backbone_id = l.backbone_id
JOIN families f ON f.family_id = b.family_id
LEFT JOIN heads h ON h.head_id = l.head_id
JOIN devices d ON d.device_id = l.device_id
JOIN runtimes rt ON rt.runtime_id = l.runtime_id
JOIN precisions p ON p.precision_id = l.precision_id
JOIN sources s ON s.source_id = l.source_id"""

VIEW_DOCS = {
    "classification": "Classification results with family, backbone, pretraining and source names: no joins needed.",
    "detection": "COCO detection and instance segmentation results, readable without joins.",
    "semantic_segmentation": "Semantic segmentation results, readable without joins.",
    "throughput_figures": "Throughput figures with GPU, precision and batch size, readable without joins.",
    "latency_figures": "Latency figures (ms) with device, runtime, precision and batch size, readable without joins.",
}


