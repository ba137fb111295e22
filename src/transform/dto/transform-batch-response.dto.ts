/** The answer of `POST /transform/batch`. */
export class TransformBatchResponseDto {
  /**
   * Each item reversed by user-perceived characters, then upper-cased by Shoutcloud, in the
   * order of the request.
   * @example ["👋 !DLRÖW ,OLLEH", "XÉ", ""]
   */
  data!: string[];
}
