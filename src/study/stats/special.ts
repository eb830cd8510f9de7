// The study's statistics share this module with the dashboard page's Ψ: it lives in src/shared/stats/.
export * from '../../shared/stats/special';
