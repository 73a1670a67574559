export const BINDING_PATH = '/mutate-v1-pod-binding';
export const RECORDING_PATH = '/mutate-v1-pod-recording';
