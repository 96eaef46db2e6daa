"""Per-task SQLite views a person can read without joins."""

VIEWS = {
    "classification": """
SELECT r.result_id, f.name AS family, b.name AS backbone, b.params_m, r.checkpoint_id,
       pd.name AS pretrain_dataset, pm.name AS pretrain_method, r.chain,
       ed.name AS eval_dataset, r.eval_resolution_px, r.top1, r.top5, r.mce, r.gmacs,
       s.title AS source, s.published, r."where"
FROM classification_results r
JOIN checkpoints c ON c.checkpoint_id = r.checkpoint_id
JOIN backbones b ON b.backbone_id = c.backbone_id
JOIN families f ON f.family_id = b.family_id
JOIN datasets pd ON pd.dataset_id = c.pretrain_dataset_id
JOIN pretraining_methods pm ON pm.pretraining_method_id = c.pretrain_method_id
JOIN datasets ed ON ed.dataset_id = r.eval_dataset_id
JOIN sources s ON s.source_id = r.source_id""",
    "detection": """
SELECT r.result_id, f.name AS family, b.name AS backbone, b.params_m, r.checkpoint_id,
       pd.name AS pretrain_dataset, pm.name AS pretrain_method, h.name AS head, r.chain,
       r.train_epochs, ed.name AS eval_dataset, r.eval_split, r.box_ap, r.box_ap50, r.box_ap75,
       r.box_ap_s, r.box_ap_m, r.box_ap_l, r.mask_ap, r.mask_ap50, r.mask_ap75, r.mask_ap_s,
       r.mask_ap_m, r.mask_ap_l, r.gmacs, r.input_size, s.title AS source, s.published, r."where"
FROM detection_results r
JOIN checkpoints c ON c.checkpoint_id = r.checkpoint_id
JOIN backbones b ON b.backbone_id = c.backbone_id
JOIN families f ON f.family_id = b.family_id
JOIN datasets pd ON pd.dataset_id = c.pretrain_dataset_id
JOIN pretraining_methods pm ON pm.pretraining_method_id = c.pretrain_method_id
JOIN heads h ON h.head_id = r.head_id
JOIN datasets ed ON ed.dataset_id = r.eval_dataset_id
JOIN sources s ON s.source_id = r.source_id""",
    "semantic_segmentation": """
SELECT r.result_id, f.name AS family, b.name AS backbone, b.params_m, r.checkpoint_id,
       pd.name AS pretrain_dataset, pm.name AS pretrain_method, h.name AS head, r.chain,
       r.train_iterations, ed.name AS eval_dataset, r.crop_px, r.miou_ss, r.miou_ms,
       r.pixel_acc, r.mean_acc, r.gmacs, r.input_size, s.title AS source, s.published, r."where"
FROM segmentation_results r
JOIN checkpoints c ON c.checkpoint_id = r.checkpoint_id
JOIN backbones b ON b.backbone_id = c.backbone_id
JOIN families f ON f.family_id = b.family_id
JOIN datasets pd ON pd.dataset_id = c.pretrain_dataset_id
JOIN pretraining_methods pm ON pm.pretraining_method_id = c.pretrain_method_id
JOIN heads h ON h.head_id = r.head_id
JOIN datasets ed ON ed.dataset_id = r.eval_dataset_id
JOIN sources s ON s.source_id = r.source_id""",
    "throughput_figures": """
SELECT t.throughput_id, f.name AS family, b.name AS backbone, b.params_m, t.task_id AS task,
       h.name AS head, t.resolution_px, t.input_size, g.name AS gpu, p.name AS precision,
       t.batch_size, t.images_per_s, s.title AS source, s.published, t."where"
FROM throughput t
JOIN backbones b ON b.backbone_id = t.backbone_id
JOIN families f ON f.family_id = b.family_id
LEFT JOIN heads h ON h.head_id = t.head_id
JOIN gpus g ON g.gpu_id = t.gpu_id
JOIN precisions p ON p.precision_id = t.precision_id
JOIN sources s ON s.source_id = t.source_id""",
}
VIEW_DOCS = {
    "classification": "Classification results with family, backbone, pretraining and source names: no joins needed.",
    "detection": "COCO detection and instance segmentation results, readable without joins.",
    "semantic_segmentation": "Semantic segmentation results, readable without joins.",
    "throughput_figures": "Throughput figures with GPU, precision and batch size, readable without joins.",
}


