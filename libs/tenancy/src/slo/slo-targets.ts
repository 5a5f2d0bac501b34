/**
 * The service levels the workflow specification promises (its "Synthese" section): a tenant is active 8 to 11
 * minutes after its request, 99.5 % of provisionings succeed, and each phase has its own share of the time.
 * The report compares what the events show against these numbers.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;

export const SLO_TARGETS = {
  /** "Temps Total de Provisionnement : 8-11 minutes": the expected band; the upper bound is the objective. */
  timeToActive: { minMs: 8 * MINUTE, maxMs: 11 * MINUTE },
  /** "Taux de Succes : 99,5%": activations among provisionings that ended (cancellations excluded). */
  successRatio: 0.995,
} as const;

/** One phase of the specification's timeline and the provisioning steps that carry it out. */
export interface SloPhase {
  name: string;
  /** The spec's wording, for people reading the report. */
  label: string;
  budgetMs: number;
  steps: readonly string[];
  /** The phase ends at the activation, not at its last step's success (the spec counts activation in it). */
  endsAtActivation?: boolean;
}

/**
 * The spec's timeline mapped onto the provisioning DAG. A phase's duration in one run is from the first start
 * to the last success of its steps (they may run side by side); a step alone never takes longer than its phase.
 */
export const SLO_PHASES: readonly SloPhase[] = [
  {
    name: 'validation',
    label: 'Phases 1-2 (validation, namespace)',
    budgetMs: 30 * SECOND,
    steps: ['namespace'],
  },
  { name: 'databases', label: 'Phase 3 (databases)', budgetMs: 2 * MINUTE, steps: ['databases'] },
  { name: 'storage', label: 'Phase 4 (MinIO)', budgetMs: 1 * MINUTE, steps: ['storage'] },
  { name: 'broker', label: 'Phase 5 (RabbitMQ)', budgetMs: 30 * SECOND, steps: ['broker'] },
  {
    name: 'deployment',
    label: 'Phases 6-7 (deployment, ingress)',
    budgetMs: 5 * MINUTE,
    steps: ['workloads', 'ingress'],
  },
  {
    name: 'monitoring',
    label: 'Phases 8-9 (monitoring, website)',
    budgetMs: 1 * MINUTE,
    steps: ['monitoring', 'website'],
  },
  {
    name: 'verification',
    label: 'Phases 10-11 (verification, activation)',
    budgetMs: 1 * MINUTE,
    steps: ['verify-kubernetes', 'verify-databases', 'verify-storage', 'verify-broker'],
    endsAtActivation: true,
  },
];

/** The steps of a provisioning run the report times, in the order of the spec's phases. */
export const SLO_STEPS: readonly string[] = SLO_PHASES.flatMap((phase) => phase.steps);

export function phaseOfStep(step: string): SloPhase | undefined {
  return SLO_PHASES.find((phase) => phase.steps.includes(step));
}
