"""Application-layer DDoS mitigation: traffic baselines, surge detection and load shedding."""
