/** The answer of `POST /transform`. */
export class TransformResponseDto {
  /**
   * The input reversed by user-perceived characters, then upper-cased by Shoutcloud.
   * @example "👋 !DLRÖW ,OLLEH"
   */
  data!: string;
}
