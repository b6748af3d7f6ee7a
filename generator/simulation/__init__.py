"""Population simulation: hospitals, patient timelines (stays, visits, conditions) and their observations."""
