import type { Static } from '@sinclair/typebox';
import type {
  ACTIONS,
  ARCHITECTURES,
  ArgSchema,
  FLAGS,
  LabelSelectorSchema,
  ProfileBindingSchema,
  ProfileRecordingSchema,
  RawSeccompProfileSchema,
  SeccompProfileSchema,
  SeccompProfileSpecSchema,
  SecurityProfileNodeStatusSchema,
  SyscallSchema,
} from './schema.js';

export type Action = (typeof ACTIONS)[number];
export type Architecture = (typeof ARCHITECTURES)[number];
export type Flag = (typeof FLAGS)[number];
export type Arg = Static<typeof ArgSchema>;
export type SyscallRule = Static<typeof SyscallSchema>;
export type SeccompProfileSpec = Static<typeof SeccompProfileSpecSchema>;
export type RawSeccompProfile = Static<typeof RawSeccompProfileSchema>;
export type SeccompProfile = Static<typeof SeccompProfileSchema>;
export type ProfileBinding = Static<typeof ProfileBindingSchema>;
export type ProfileRecording = Static<typeof ProfileRecordingSchema>;
export type LabelSelector = Static<typeof LabelSelectorSchema>;
export type SecurityProfileNodeStatus = Static<typeof SecurityProfileNodeStatusSchema>;
export type ProfileState = SecurityProfileNodeStatus['status'];
