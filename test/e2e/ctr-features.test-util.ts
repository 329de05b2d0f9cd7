/** Features the shipped ctr_prediction model reads, for the e2e tests that compute it through the mesh. */
export const ctrFeatures = {
  bid: 1.2,
  quality_score: 7,
  position: 1,
  hour_of_day: 14,
  ad_age_days: 3,
  historical_ctr: 0.05,
  relevance: 0.8,
  device_mobile: 1,
};
