// Every expert share MoE Lens shows names its denominator, the same words everywhere (Experts tree, quick picks,
// panel, CLI): "of tokens, top-2" is the share of tokens that had the expert among their top-k (a layer sums to k ×
// 100%), "of tokens, top-1" the share whose first choice it was (a layer sums to 100%).

/** "of tokens, top-2" */
export const shareDenominator = (k: number): string => `of tokens, top-${k}`;

/** "12.3% of tokens, top-2" */
export const shareText = (share: number, k: number): string => `${(share * 100).toFixed(1)}% ${shareDenominator(k)}`;
