// Types generated from the API's OpenAPI document (npm run api-types): the build fails when the
// console uses a field the API does not have.
import type { components } from "./schema";

type S = components["schemas"];
export type FlowList = S["FlowList"];
export type FlowSummary = S["FlowSummary"];
export type FlowOut = S["FlowOut"];
export type StepOut = S["StepOut"];
export type StepStatus = S["StepStatus"];
export type PageOut = S["PageOut"];
export type PageVersionOut = S["PageVersionOut"];
export type ElementOut = S["ElementOut"];
export type ActionOut = S["ActionOut"];
export type UploadTicket = S["UploadTicket"];
export type AssetOut = S["AssetOut"];
export type AssetList = S["AssetList"];
export type AssetType = S["AssetType"];
export type ShareList = S["ShareList"];
export type ConnectionOut = S["ConnectionOut"];
export type ConnectionList = S["ConnectionList"];
export type WhoAmI = S["WhoAmI"];

/** One element of a stored page, as the SDK's Element.to_dict writes it. */
export interface PageElement {
  type: string;
  id: string;
  title?: string;
  reference_id?: string | null;
  description?: string;
  show_title?: boolean;
  show_description?: boolean;
  label?: string;
  placeholder?: string;
  input?: boolean;
  params?: Record<string, unknown>;
  value?: unknown;
  content?: unknown;
}

export interface PageCard {
  id: string;
  title?: string;
  subtitle?: string;
  description?: string;
  show_title?: boolean;
  show_description?: boolean;
  content?: PageElement[];
}

export interface PageSection {
  id: string;
  title?: string;
  subtitle?: string;
  description?: string;
  show_title?: boolean;
  show_description?: boolean;
  cards?: PageCard[];
}

export interface PageLayout {
  title?: string;
  sections?: PageSection[];
}
